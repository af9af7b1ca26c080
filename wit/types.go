package wit

import (
	"fmt"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	bwit "go.bytecodealliance.org/wit"
)

// kind is the shape of a WIT type after aliases are resolved.
type kind uint8

const (
	kBool kind = iota
	kS8
	kS16
	kS32
	kS64
	kU8
	kU16
	kU32
	kU64
	kF32
	kF64
	kChar
	kString
	kList
	kRecord
	kTuple
	kVariant
	kEnum
	kOption
	kResult
	kFlags
	kOwn
	kBorrow
)

// Type is a WIT type compiled for the Canonical ABI: its shape, size, alignment and
// flattening. Types come from a [World]'s functions.
type Type struct {
	k     kind
	elem  *Type    // list, option
	subs  []*Type  // record fields, tuple elements, variant/result cases (nil: no payload)
	names []string // record fields, variant/enum cases, flags
	name  string   // the WIT type name, if named
	size  uint32
	align uint32
	poff  uint32 // variants: offset of the payload
	flat  []api.ValueType
	res   *Resource // a resource type the guest exports (under own/borrow: elem.res)
	// Wit is the type as go.bytecodealliance.org/wit resolved it.
	Wit bwit.Type
}

// Size is the type's size in linear memory in bytes.
func (t *Type) Size() uint32 { return t.size }

// Align is the type's alignment in linear memory in bytes.
func (t *Type) Align() uint32 { return t.align }

// Flat is the type's flattening into core value types.
func (t *Type) Flat() []api.ValueType { return t.flat }

// Name is the WIT name of a named type (record, variant, enum, flags, alias...), or "".
func (t *Type) Name() string { return t.name }

// Cases are the case names of a variant or enum, the field names of a record, or the flag
// names of a flags type.
func (t *Type) Cases() []string { return t.names }

var primNames = map[kind]string{kBool: "bool", kS8: "s8", kS16: "s16", kS32: "s32", kS64: "s64",
	kU8: "u8", kU16: "u16", kU32: "u32", kU64: "u64", kF32: "f32", kF64: "f64", kChar: "char", kString: "string"}

// String renders the type in WIT syntax (named types by name).
func (t *Type) String() string {
	if t == nil {
		return "_"
	}
	if t.name != "" {
		return t.name
	}
	return t.structure()
}

// structure renders the type's structure, ignoring its own name.
func (t *Type) structure() string {
	if s, ok := primNames[t.k]; ok {
		return s
	}
	switch t.k {
	case kList:
		return "list<" + t.elem.String() + ">"
	case kOption:
		return "option<" + t.elem.String() + ">"
	case kResult:
		ok, er := t.subs[0], t.subs[1]
		switch {
		case ok == nil && er == nil:
			return "result"
		case er == nil:
			return "result<" + ok.String() + ">"
		default:
			return "result<" + ok.String() + ", " + er.String() + ">"
		}
	case kTuple:
		s := make([]string, len(t.subs))
		for i, e := range t.subs {
			s[i] = e.String()
		}
		return "tuple<" + strings.Join(s, ", ") + ">"
	case kRecord:
		s := make([]string, len(t.subs))
		for i, e := range t.subs {
			s[i] = t.names[i] + ": " + e.String()
		}
		return "record { " + strings.Join(s, ", ") + " }"
	case kVariant:
		s := make([]string, len(t.subs))
		for i, e := range t.subs {
			s[i] = t.names[i]
			if e != nil {
				s[i] += "(" + e.String() + ")"
			}
		}
		return "variant { " + strings.Join(s, ", ") + " }"
	case kEnum:
		return "enum { " + strings.Join(t.names, ", ") + " }"
	case kFlags:
		return "flags { " + strings.Join(t.names, ", ") + " }"
	case kOwn:
		return "own<" + t.elem.String() + ">"
	case kBorrow:
		return "borrow<" + t.elem.String() + ">"
	}
	return "?"
}

func alignTo(n, a uint32) uint32 { return (n + a - 1) / a * a }

// discriminant size for n cases (also its alignment).
func discSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

// compiler turns go.bytecodealliance.org/wit types into *Type, sharing results.
type compiler struct {
	memo     map[bwit.Type]*Type
	exported map[*bwit.TypeDef]*Resource // resources of exported interfaces, by their definition
}

func newCompiler() *compiler {
	return &compiler{memo: map[bwit.Type]*Type{}, exported: map[*bwit.TypeDef]*Resource{}}
}

func (c *compiler) compile(wt bwit.Type) (*Type, error) {
	if wt == nil {
		return nil, nil
	}
	if t, ok := c.memo[wt]; ok {
		return t, nil
	}
	t, err := c.compile1(wt)
	if err != nil {
		return nil, err
	}
	c.memo[wt] = t
	return t, nil
}

func (c *compiler) compile1(wt bwit.Type) (*Type, error) {
	t := &Type{Wit: wt}
	var k bwit.TypeDefKind = wt
	var root *bwit.TypeDef
	for {
		td, ok := k.(*bwit.TypeDef)
		if !ok {
			break
		}
		if t.name == "" && td.Name != nil {
			t.name = *td.Name
		}
		k, root = td.Kind, td
	}
	prim := func(kk kind, size uint32, flat api.ValueType) (*Type, error) {
		t.k, t.size, t.align, t.flat = kk, size, size, []api.ValueType{flat}
		return t, nil
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	switch k := k.(type) {
	case bwit.Bool:
		return prim(kBool, 1, i32)
	case bwit.S8:
		return prim(kS8, 1, i32)
	case bwit.U8:
		return prim(kU8, 1, i32)
	case bwit.S16:
		return prim(kS16, 2, i32)
	case bwit.U16:
		return prim(kU16, 2, i32)
	case bwit.S32:
		return prim(kS32, 4, i32)
	case bwit.U32:
		return prim(kU32, 4, i32)
	case bwit.S64:
		return prim(kS64, 8, i64)
	case bwit.U64:
		return prim(kU64, 8, i64)
	case bwit.F32:
		return prim(kF32, 4, api.ValueTypeF32)
	case bwit.F64:
		return prim(kF64, 8, api.ValueTypeF64)
	case bwit.Char:
		return prim(kChar, 4, i32)
	case bwit.String:
		t.k, t.size, t.align, t.flat = kString, 8, 4, []api.ValueType{i32, i32}
		return t, nil
	case *bwit.List:
		e, err := c.compile(k.Type)
		if err != nil {
			return nil, err
		}
		t.k, t.elem, t.size, t.align, t.flat = kList, e, 8, 4, []api.ValueType{i32, i32}
		return t, nil
	case *bwit.Record:
		t.k = kRecord
		for _, f := range k.Fields {
			e, err := c.compile(f.Type)
			if err != nil {
				return nil, err
			}
			t.subs = append(t.subs, e)
			t.names = append(t.names, f.Name)
		}
		t.layoutRecord()
		return t, nil
	case *bwit.Tuple:
		t.k = kTuple
		for _, et := range k.Types {
			e, err := c.compile(et)
			if err != nil {
				return nil, err
			}
			t.subs = append(t.subs, e)
		}
		t.layoutRecord()
		return t, nil
	case *bwit.Variant:
		t.k = kVariant
		for _, cs := range k.Cases {
			e, err := c.compile(cs.Type)
			if err != nil {
				return nil, err
			}
			t.subs = append(t.subs, e)
			t.names = append(t.names, cs.Name)
		}
		t.layoutVariant()
		return t, nil
	case *bwit.Enum:
		t.k = kEnum
		for _, cs := range k.Cases {
			t.subs = append(t.subs, nil)
			t.names = append(t.names, cs.Name)
		}
		t.layoutVariant()
		return t, nil
	case *bwit.Option:
		e, err := c.compile(k.Type)
		if err != nil {
			return nil, err
		}
		t.k, t.elem, t.subs, t.names = kOption, e, []*Type{nil, e}, []string{"none", "some"}
		t.layoutVariant()
		return t, nil
	case *bwit.Result:
		ok, err := c.compile(k.OK)
		if err != nil {
			return nil, err
		}
		er, err := c.compile(k.Err)
		if err != nil {
			return nil, err
		}
		t.k, t.subs, t.names = kResult, []*Type{ok, er}, []string{"ok", "error"}
		t.layoutVariant()
		return t, nil
	case *bwit.Flags:
		t.k = kFlags
		for _, f := range k.Flags {
			t.names = append(t.names, f.Name)
		}
		n := len(t.names)
		switch {
		case n <= 8:
			t.size = 1
		case n <= 16:
			t.size = 2
		default:
			t.size = 4 * uint32((n+31)/32)
		}
		t.align = min(t.size, 4)
		for range (n + 31) / 32 {
			t.flat = append(t.flat, i32)
		}
		if n == 0 {
			t.flat = nil
		}
		return t, nil
	case *bwit.Own:
		e, err := c.compile(k.Type)
		if err != nil {
			return nil, err
		}
		t.k, t.elem, t.size, t.align, t.flat = kOwn, e, 4, 4, []api.ValueType{i32}
		return t, nil
	case *bwit.Borrow:
		e, err := c.compile(k.Type)
		if err != nil {
			return nil, err
		}
		t.k, t.elem, t.size, t.align, t.flat = kBorrow, e, 4, 4, []api.ValueType{i32}
		return t, nil
	case *bwit.Resource:
		// A resource type itself only appears under own/borrow; it has no values.
		t.k, t.size, t.align, t.res = kU32, 4, 4, c.exported[root]
		t.flat = []api.ValueType{i32}
		return t, nil
	}
	return nil, fmt.Errorf("%w: type %T", ErrUnsupported, k)
}

func (t *Type) layoutRecord() {
	var size, align uint32 = 0, 1
	for _, e := range t.subs {
		size = alignTo(size, e.align) + e.size
		align = max(align, e.align)
		t.flat = append(t.flat, e.flat...)
	}
	t.size, t.align = alignTo(size, align), align
}

func (t *Type) layoutVariant() {
	d := discSize(len(t.subs))
	var caseAlign uint32 = 1
	var caseSize uint32
	var flat []api.ValueType
	for _, e := range t.subs {
		if e == nil {
			continue
		}
		caseAlign = max(caseAlign, e.align)
		caseSize = max(caseSize, e.size)
		for i, ft := range e.flat {
			if i < len(flat) {
				flat[i] = joinFlat(flat[i], ft)
			} else {
				flat = append(flat, ft)
			}
		}
	}
	t.align = max(d, caseAlign)
	t.poff = alignTo(d, caseAlign)
	t.size = alignTo(t.poff+caseSize, t.align)
	t.flat = append([]api.ValueType{api.ValueTypeI32}, flat...)
}

func joinFlat(a, b api.ValueType) api.ValueType {
	if a == b {
		return a
	}
	if (a == api.ValueTypeI32 && b == api.ValueTypeF32) || (a == api.ValueTypeF32 && b == api.ValueTypeI32) {
		return api.ValueTypeI32
	}
	return api.ValueTypeI64
}

// payloadOffset is where a variant's payload starts.
func (t *Type) payloadOffset() uint32 { return t.poff }
