package wasmbin

import (
	"fmt"
	"strings"
)

// ValType is a WebAssembly value type, encoded as in the binary format.
type ValType byte

// Value types.
const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
)

// String returns the text-format name ("i32", "funcref", ...).
func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("valtype(0x%02x)", byte(t))
}

// IsRef reports whether t is a reference type.
func (t ValType) IsRef() bool { return t == FuncRef || t == ExternRef }

// Slots is how many uint64 slots a value of type t takes in a call (2 for v128, else 1).
func (t ValType) Slots() int {
	if t == V128 {
		return 2
	}
	return 1
}

func validValType(b byte) bool {
	switch ValType(b) {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// String formats the type as "(i32, i64) -> (f32)".
func (f FuncType) String() string {
	return "(" + joinTypes(f.Params) + ") -> (" + joinTypes(f.Results) + ")"
}

// Equal reports whether two signatures are identical.
func (f FuncType) Equal(g FuncType) bool {
	return equalTypes(f.Params, g.Params) && equalTypes(f.Results, g.Results)
}

func joinTypes(ts []ValType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

func equalTypes(a, b []ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Limits are the size bounds of a table (elements) or memory (64 KiB pages).
type Limits struct {
	Min    uint32
	Max    uint32 // meaningful only if HasMax
	HasMax bool
}

// TableType is the type of a table.
type TableType struct {
	Elem ValType // FuncRef or ExternRef
	Limits
}

// MemType is the type of a linear memory.
type MemType struct {
	Limits
}

// GlobalType is the type of a global.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// ExternKind is the kind of an import or export.
type ExternKind byte

// Extern kinds, encoded as in the binary format.
const (
	KindFunc   ExternKind = 0
	KindTable  ExternKind = 1
	KindMemory ExternKind = 2
	KindGlobal ExternKind = 3
)

// String returns "func", "table", "memory" or "global".
func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Import is one entry of the import section. Exactly the field matching Kind is set;
// for functions both TypeIndex and FuncType are.
type Import struct {
	Module, Name string
	Kind         ExternKind
	TypeIndex    uint32 // KindFunc: index into Module.Types
	FuncType     FuncType
	TableType    TableType
	MemType      MemType
	GlobalType   GlobalType
}

// Export is one entry of the export section. Index is in the index space of Kind
// (imports first).
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32
}
