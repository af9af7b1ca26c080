package wit

// Value is the dynamic representation of a WIT value, used by the CLI, by WAVE and by
// host functions bound with [DynamicFunc]. The Go type of a Value depends on the WIT type:
//
//	bool                 bool
//	s8 s16 s32 s64       int8 int16 int32 int64
//	u8 u16 u32 u64       uint8 uint16 uint32 uint64
//	f32 f64              float32 float64
//	char                 Char
//	string               string
//	list<u8>             []byte
//	list<T>              List (other element types)
//	tuple<...>           Tuple
//	record               Record
//	variant              Variant (Payload nil for a case without a type)
//	enum                 Enum
//	flags                Flags (the names of the set flags, in declaration order)
//	option<T>            Option[Value]
//	result<T, E>         Result[Value, Value] (nil for an absent payload type)
//	own<T>, borrow<T>    Handle
//
// Lowering is lenient: any Go integer of the right range is accepted for an integer type,
// any float for a float type, and typed Go values (structs, slices...) as described for
// [Bind] are accepted too. Lifting always produces the types above.
type Value = any

// Char is a WIT char: a Unicode scalar value.
type Char rune

// List is a WIT list.
type List []Value

// Tuple is a WIT tuple.
type Tuple []Value

// Field is one field of a [Record].
type Field struct {
	Name  string
	Value Value
}

// Record is a WIT record: its fields in declaration order.
type Record []Field

// Get returns the value of the field called name.
func (r Record) Get(name string) (Value, bool) {
	for _, f := range r {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Variant is a WIT variant value: the case name and its payload (nil if the case has none).
type Variant struct {
	Case    string
	Payload Value
}

// Enum is a WIT enum value: the case name.
type Enum string

// Flags is a WIT flags value: the names of the flags that are set.
type Flags []string

// Handle is a resource handle (own<T> or borrow<T>) as the guest sees it: an index into the
// component's handle table. This package passes handles through unchanged; tracking what
// they denote is up to the host.
type Handle uint32

// Option is a WIT option<T>. The zero value is none.
type Option[T any] struct {
	Value T
	Valid bool
}

// Some returns option some(v).
func Some[T any](v T) Option[T] { return Option[T]{Value: v, Valid: true} }

// None returns option none.
func None[T any]() Option[T] { return Option[T]{} }

// Get returns the value and whether it is present.
func (o Option[T]) Get() (T, bool) { return o.Value, o.Valid }

func (o Option[T]) witOption() (any, bool) { return o.Value, o.Valid }

// Result is a WIT result<T, E>. Use struct{} for an absent payload type.
type Result[T, E any] struct {
	OK    T
	Err   E
	IsErr bool
}

// Ok returns result ok(v).
func Ok[T, E any](v T) Result[T, E] { return Result[T, E]{OK: v} }

// Err returns result err(e).
func Err[T, E any](e E) Result[T, E] { return Result[T, E]{Err: e, IsErr: true} }

func (r Result[T, E]) witResult() (any, any, bool) { return r.OK, r.Err, r.IsErr }

type optionLike interface{ witOption() (any, bool) }
type resultLike interface{ witResult() (any, any, bool) }
