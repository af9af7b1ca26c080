package wasmbin

import (
	"fmt"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

// Value types are api.ValueType: one definition for the host API, host functions and this
// reader.

func validValType(b byte) bool {
	switch api.ValueType(b) {
	case api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64, api.ValueTypeV128:
		return true
	}
	_, ok := refTypeOf(b)
	return ok
}

// refTypeOf maps an abstract heap type (or its one-byte reference type) to the host API's
// reference type: GC's any, eq, i31, struct, array and none are anyref, its nofunc, noextern
// and noexn the func, extern and exn references.
func refTypeOf(b byte) (api.ValueType, bool) {
	switch b {
	case byte(api.ValueTypeFuncref), 0x73:
		return api.ValueTypeFuncref, true
	case byte(api.ValueTypeExternref), 0x72:
		return api.ValueTypeExternref, true
	case byte(api.ValueTypeExnref), 0x74:
		return api.ValueTypeExnref, true
	case 0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x71:
		return api.ValueTypeAnyref, true
	}
	return 0, false
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []api.ValueType
	// GC: the type is a struct or array type, not a function type (Params and Results empty).
	// Kept in Module.Types so type indices stay those of the binary.
	Data bool
}

// String formats the type as "(i32, i64) -> (f32)".
func (f FuncType) String() string {
	return "(" + joinTypes(f.Params) + ") -> (" + joinTypes(f.Results) + ")"
}

// Equal reports whether two signatures are identical.
func (f FuncType) Equal(g FuncType) bool {
	return equalTypes(f.Params, g.Params) && equalTypes(f.Results, g.Results)
}

func joinTypes(ts []api.ValueType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

func equalTypes(a, b []api.ValueType) bool {
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
	Min    uint64
	Max    uint64 // meaningful only if HasMax
	HasMax bool
	Is64   bool // memory64: a 64-bit memory (i64 addresses, limits up to 2^48 pages) or table (i64 indices)
}

// TableType is the type of a table.
type TableType struct {
	Elem api.ValueType // api.ValueTypeFuncref, api.ValueTypeExternref or api.ValueTypeExnref
	Limits
}

// MemType is the type of a linear memory.
type MemType struct {
	Limits
}

// GlobalType is the type of a global.
type GlobalType struct {
	Type    api.ValueType
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
	KindTag    ExternKind = 4 // exception handling
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
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Import is one entry of the import section. Exactly the field matching Kind is set;
// for functions both TypeIndex and FuncType are.
type Import struct {
	Module, Name string
	Kind         ExternKind
	TypeIndex    uint32 // KindFunc, KindTag: index into Module.Types
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
