// Package api holds the types shared by hlwasm's host API, its host functions (WASI among them)
// and its engines: value types, the bounded view of a guest's linear memory that host
// functions get, and host-function definitions (raw or typed by reflection).
package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ValueType is a WebAssembly value type in its binary encoding.
type ValueType byte

// Value types.
const (
	ValueTypeI32       ValueType = 0x7f
	ValueTypeI64       ValueType = 0x7e
	ValueTypeF32       ValueType = 0x7d
	ValueTypeF64       ValueType = 0x7c
	ValueTypeV128      ValueType = 0x7b
	ValueTypeFuncref   ValueType = 0x70
	ValueTypeExternref ValueType = 0x6f
	// ValueTypeExnref is a caught exception (exception handling). The host sees an opaque
	// value it may only pass back to the same instance; a parameter of this type must be null.
	ValueTypeExnref ValueType = 0x69
	// ValueTypeAnyref is a reference of GC's any hierarchy (anyref, eqref, i31ref, nullref):
	// to the host an opaque value it may pass back; i31 references are the only non-null ones
	// the engine makes yet.
	ValueTypeAnyref ValueType = 0x6e
)

func (t ValueType) String() string {
	switch t {
	case ValueTypeI32:
		return "i32"
	case ValueTypeI64:
		return "i64"
	case ValueTypeF32:
		return "f32"
	case ValueTypeF64:
		return "f64"
	case ValueTypeV128:
		return "v128"
	case ValueTypeFuncref:
		return "funcref"
	case ValueTypeExternref:
		return "externref"
	case ValueTypeExnref:
		return "exnref"
	case ValueTypeAnyref:
		return "anyref"
	}
	return fmt.Sprintf("valtype(0x%02x)", byte(t))
}

// IsRef reports whether t is a reference type.
func (t ValueType) IsRef() bool {
	return t == ValueTypeFuncref || t == ValueTypeExternref || t == ValueTypeExnref || t == ValueTypeAnyref
}

// Slots is how many uint64 slots a value of type t takes in a call (2 for v128, else 1).
func (t ValueType) Slots() int {
	if t == ValueTypeV128 {
		return 2
	}
	return 1
}

// Signature renders "(i32, i64) -> (f32)".
func Signature(params, results []ValueType) string {
	join := func(ts []ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.String()
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return join(params) + " -> " + join(results)
}

// Memory is a bounded view of the calling instance's linear memory. Every method checks its
// offset and length against the memory's current size and reports false when out of range;
// reads return copies, so no reference into guest memory outlives the call.
//
// The methods have wazero's names and signatures (wazero/api.Memory: ReadUint32Le,
// WriteFloat64Le, Read, Write, WriteString...), so host code can be shared, with these
// differences: Size is a uint64 (a 32-bit memory of 65536 pages holds 2^32 bytes, which
// wazero's uint32 wraps to 0); wazero's ReadByte and WriteByte are ReadUint8 and WriteUint8
// (go vet reserves those names for io.ByteReader's and io.ByteWriter's signatures); there is
// no Definition.
type Memory interface {
	// Size is the memory's size in bytes (a 32-bit memory may hold 4 GiB: 2^32 does not fit
	// in a uint32).
	Size() uint64
	// Read copies length bytes at offset.
	Read(offset, length uint32) ([]byte, bool)
	// Write copies data to offset.
	Write(offset uint32, data []byte) bool
	// ReadString copies length bytes at offset as a string.
	ReadString(offset, length uint32) (string, bool)
	ReadUint8(offset uint32) (byte, bool)
	ReadUint16Le(offset uint32) (uint16, bool)
	ReadUint32Le(offset uint32) (uint32, bool)
	ReadUint64Le(offset uint32) (uint64, bool)
	WriteUint8(offset uint32, v byte) bool
	WriteUint16Le(offset uint32, v uint16) bool
	WriteUint32Le(offset uint32, v uint32) bool
	WriteUint64Le(offset uint32, v uint64) bool
	// wazero's names.
	ReadFloat32Le(offset uint32) (float32, bool)
	ReadFloat64Le(offset uint32) (float64, bool)
	WriteFloat32Le(offset uint32, v float32) bool
	WriteFloat64Le(offset uint32, v float64) bool
	WriteString(offset uint32, v string) bool
	// Grow grows the memory by deltaPages 64 KiB pages as memory.grow does, returning the
	// previous size in pages; false (and the size unchanged) past the memory's maximum or
	// Config.MaxMemoryPages. The view covers the grown memory afterwards.
	Grow(deltaPages uint32) (previousPages uint32, ok bool)
}

// GoFunction is the raw form of a host function: parameters arrive in stack[:len(params)]
// (encoded as in wazero: i32 zero-extended, floats as their bits) and results are written to
// stack[:len(results)] (stack has room for both). mem is nil when the caller has no memory.
// A returned error aborts the Wasm call with that error (errors.Is works on it).
type GoFunction func(ctx context.Context, mem Memory, stack []uint64) error

// HostFunction is one allow-listed function a module may import as ModuleName.Name.
type HostFunction struct {
	ModuleName, Name string
	ParamTypes       []ValueType
	ResultTypes      []ValueType
	Fn               GoFunction
	// HonorsContext promises that Fn returns promptly once its context is done (or never
	// blocks at all). It then runs on the calling goroutine. Otherwise, when the call can end
	// early (a deadline, a cancelable context), the micro-VM engine serves the rest of the
	// call, from its first host call of such a function, on a goroutine of the sandbox's own,
	// so that the call can end at the deadline even if Fn does not (docs/ARCHITECTURE.md, "Host
	// functions that ignore their context"): two goroutine switches per call, none per host
	// call.
	HonorsContext bool
}

// String renders "module.name (i32) -> (i32)".
func (h HostFunction) String() string {
	return fmt.Sprintf("%s.%s %s", h.ModuleName, h.Name, Signature(h.ParamTypes, h.ResultTypes))
}

// ErrBadHostFunction: a typed host function has a Go signature that cannot be mapped.
var ErrBadHostFunction = errors.New("api: unsupported host function signature")

// ExitError is returned by a host function (WASI proc_exit) to end the program with a code.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }
