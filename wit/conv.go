package wit

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
)

// Conversions between Go values and canonical dynamic Values.
//
// Go types accepted for each WIT type (a named type with the same underlying kind works too):
//
//	bool             bool
//	s8 … u64         any Go integer type (range-checked)
//	f32, f64         float32, float64
//	char             rune (int32) or Char
//	string           string
//	list<T>          []T, [N]T, List
//	tuple<…>         struct (exported fields in order), [N]T, Tuple
//	record           struct: fields matched by `wit:"name"` tag or by name ignoring case and
//	                 dashes (FooBar = foo-bar); Record
//	variant          Variant
//	enum             any integer type (the case index), string (the case name), Enum
//	flags            any unsigned integer type (bit i = flag i), []string, Flags
//	option<T>        Option[T], *T (nil is none)
//	result<T, E>     Result[T, E] (struct{} for an absent type)
//	own, borrow      Handle or any integer type
//
// Any WIT type also maps to an interface type (any, Value): the dynamic value.

var (
	typeValue    = reflect.TypeFor[Value]()
	typeOptionIf = reflect.TypeFor[optionLike]()
	typeResultIf = reflect.TypeFor[resultLike]()
)

// conform converts v (a dynamic Value or a Go value) into canonical dynamic form for t.
func conform(t *Type, v any) (Value, error) {
	if v == nil {
		if t.k == kOption {
			return Option[Value]{}, nil
		}
		return nil, typeErrf("nil for WIT type %s", t)
	}
	if rv, ok := v.(reflect.Value); ok {
		return conformRV(t, rv)
	}
	return conformRV(t, reflect.ValueOf(v))
}

func conformRV(t *Type, rv reflect.Value) (Value, error) {
	for rv.Kind() == reflect.Interface && !rv.IsNil() {
		rv = rv.Elem()
	}
	bad := func() (Value, error) {
		if !rv.IsValid() {
			return nil, typeErrf("nil for WIT type %s", t)
		}
		return nil, typeErrf("Go %s value %v for WIT type %s", rv.Type(), rv, t)
	}
	if !rv.IsValid() || (rv.Kind() == reflect.Interface && rv.IsNil()) {
		if t.k == kOption {
			return Option[Value]{}, nil
		}
		return bad()
	}
	k := rv.Kind()
	switch t.k {
	case kBool:
		if k == reflect.Bool {
			return rv.Bool(), nil
		}
	case kS8, kS16, kS32, kS64, kU8, kU16, kU32, kU64:
		return conformInt(t, rv)
	case kF32:
		if k == reflect.Float32 || k == reflect.Float64 {
			return float32(rv.Float()), nil
		}
	case kF64:
		if k == reflect.Float32 || k == reflect.Float64 {
			return rv.Float(), nil
		}
	case kChar:
		if k == reflect.Int32 {
			c := rv.Int()
			if c < 0 || c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF) {
				return nil, typeErrf("char %#x is not a Unicode scalar value", c)
			}
			return Char(c), nil
		}
	case kOwn, kBorrow:
		x, err := conformInt(&Type{k: kU32}, rv)
		if err != nil {
			return bad()
		}
		return Handle(x.(uint32)), nil
	case kString:
		if k == reflect.String {
			return rv.String(), nil
		}
	case kList:
		if k == reflect.Slice || k == reflect.Array {
			n := rv.Len()
			if t.elem.k == kU8 { // list<u8>'s dynamic form is []byte
				if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
					return bytesClone(rv.Bytes()), nil
				}
				out := make([]byte, n)
				for i := range n {
					x, err := conformRV(t.elem, rv.Index(i))
					if err != nil {
						return nil, err
					}
					out[i] = x.(uint8)
				}
				return out, nil
			}
			out := make(List, n)
			for i := range n {
				x, err := conformRV(t.elem, rv.Index(i))
				if err != nil {
					return nil, err
				}
				out[i] = x
			}
			return out, nil
		}
	case kTuple:
		var elems []reflect.Value
		switch k {
		case reflect.Slice, reflect.Array:
			for i := range rv.Len() {
				elems = append(elems, rv.Index(i))
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					elems = append(elems, rv.Field(i))
				}
			}
		default:
			return bad()
		}
		if len(elems) != len(t.subs) {
			return nil, typeErrf("%d values for %s", len(elems), t)
		}
		out := make(Tuple, len(elems))
		for i, e := range elems {
			x, err := conformRV(t.subs[i], e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case kRecord:
		out := make(Record, len(t.subs))
		switch k {
		case reflect.Slice: // Record
			r, ok := rv.Interface().(Record)
			if !ok {
				return bad()
			}
			for i, name := range t.names {
				f, ok := r.Get(name)
				if !ok {
					return nil, typeErrf("record %s: missing field %s", t, name)
				}
				x, err := conform(t.subs[i], f)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", name, err)
				}
				out[i] = Field{Name: name, Value: x}
			}
			if len(r) != len(t.names) {
				return nil, typeErrf("record %s: %d fields, want %d", t, len(r), len(t.names))
			}
			return out, nil
		case reflect.Struct:
			idx, err := structFields(rv.Type(), t.names)
			if err != nil {
				return nil, err
			}
			for i, name := range t.names {
				x, err := conformRV(t.subs[i], rv.Field(idx[i]))
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", name, err)
				}
				out[i] = Field{Name: name, Value: x}
			}
			return out, nil
		}
	case kVariant:
		if x, ok := rv.Interface().(Variant); ok {
			i := indexOf(t.names, x.Case)
			if i < 0 {
				return nil, typeErrf("variant %s has no case %q", t, x.Case)
			}
			if t.subs[i] == nil {
				if x.Payload != nil {
					return nil, typeErrf("variant %s case %s takes no payload", t, x.Case)
				}
				return x, nil
			}
			p, err := conform(t.subs[i], x.Payload)
			if err != nil {
				return nil, err
			}
			return Variant{Case: x.Case, Payload: p}, nil
		}
	case kEnum:
		switch {
		case k == reflect.String:
			if indexOf(t.names, rv.String()) < 0 {
				return nil, typeErrf("enum %s has no case %q", t, rv.String())
			}
			return Enum(rv.String()), nil
		case isInt(k):
			i, ok := intOf(rv)
			if !ok || i < 0 || i >= int64(len(t.names)) {
				return nil, typeErrf("enum %s has no case %v", t, rv)
			}
			return Enum(t.names[i]), nil
		}
	case kFlags:
		switch {
		case k == reflect.Slice && rv.Type().Elem().Kind() == reflect.String:
			out := Flags{}
			for i := range rv.Len() {
				s := rv.Index(i).String()
				if indexOf(t.names, s) < 0 {
					return nil, typeErrf("flags %s has no flag %q", t, s)
				}
				out = append(out, s)
			}
			return out, nil
		case isInt(k):
			u, ok := intOf(rv)
			if !ok || u < 0 || (len(t.names) < 63 && u >= 1<<len(t.names)) {
				return nil, typeErrf("flags %s: bits %#x out of range", t, rv)
			}
			out := Flags{}
			for i, name := range t.names {
				if i < 64 && u&(1<<i) != 0 {
					out = append(out, name)
				}
			}
			return out, nil
		}
	case kOption:
		if rv.Type().Implements(typeOptionIf) {
			v, valid := rv.Interface().(optionLike).witOption()
			if !valid {
				return Option[Value]{}, nil
			}
			x, err := conform(t.elem, v)
			if err != nil {
				return nil, err
			}
			return Option[Value]{Value: x, Valid: true}, nil
		}
		if k == reflect.Pointer {
			if rv.IsNil() {
				return Option[Value]{}, nil
			}
			x, err := conformRV(t.elem, rv.Elem())
			if err != nil {
				return nil, err
			}
			return Option[Value]{Value: x, Valid: true}, nil
		}
	case kResult:
		if rv.Type().Implements(typeResultIf) {
			ok, er, isErr := rv.Interface().(resultLike).witResult()
			i, p := 0, ok
			if isErr {
				i, p = 1, er
			}
			var x Value
			if e := t.subs[i]; e != nil {
				var err error
				if x, err = conform(e, p); err != nil {
					return nil, err
				}
			}
			if isErr {
				return Result[Value, Value]{Err: x, IsErr: true}, nil
			}
			return Result[Value, Value]{OK: x}, nil
		}
	}
	return bad()
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

func isInt(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Int64) || (k >= reflect.Uint && k <= reflect.Uintptr)
}

// intOf returns an integer value as int64 (false if it does not fit).
func intOf(rv reflect.Value) (int64, bool) {
	if rv.CanInt() {
		return rv.Int(), true
	}
	u := rv.Uint()
	return int64(u), u <= math.MaxInt64
}

func conformInt(t *Type, rv reflect.Value) (Value, error) {
	var neg bool
	var u uint64
	switch {
	case rv.CanInt():
		i := rv.Int()
		neg, u = i < 0, uint64(i)
	case rv.CanUint():
		u = rv.Uint()
	default:
		return nil, typeErrf("Go %s value %v for WIT type %s", rv.Type(), rv, t)
	}
	i := int64(u)
	fitsS := func(bits uint) bool { return neg || u < 1<<(bits-1) } // neg: i is exact
	out := func(ok bool, v Value) (Value, error) {
		if !ok {
			return nil, typeErrf("%v out of range for %s", rv, t)
		}
		return v, nil
	}
	switch t.k {
	case kS8:
		return out(fitsS(64) && i >= math.MinInt8 && i <= math.MaxInt8, int8(i))
	case kS16:
		return out(fitsS(64) && i >= math.MinInt16 && i <= math.MaxInt16, int16(i))
	case kS32:
		return out(fitsS(64) && i >= math.MinInt32 && i <= math.MaxInt32, int32(i))
	case kS64:
		return out(fitsS(64), i)
	case kU8:
		return out(!neg && u <= math.MaxUint8, uint8(u))
	case kU16:
		return out(!neg && u <= math.MaxUint16, uint16(u))
	case kU32:
		return out(!neg && u <= math.MaxUint32, uint32(u))
	case kU64:
		return out(!neg, u)
	}
	return nil, typeErrf("not an integer type: %s", t)
}

var fieldCache sync.Map // [2]any{reflect.Type, names string} -> []int

// structFields maps WIT record field names to field indexes of struct type st.
func structFields(st reflect.Type, names []string) ([]int, error) {
	key := [2]any{st, strings.Join(names, ",")}
	if idx, ok := fieldCache.Load(key); ok {
		return idx.([]int), nil
	}
	idx := make([]int, len(names))
	for i, name := range names {
		idx[i] = -1
		for j := range st.NumField() {
			f := st.Field(j)
			if !f.IsExported() {
				continue
			}
			tag, hasTag := f.Tag.Lookup("wit")
			if (hasTag && tag == name) || (!hasTag && normName(f.Name) == normName(name)) {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			return nil, typeErrf("Go struct %s has no field for record field %s (tag it `wit:%q`)", st, name, name)
		}
	}
	fieldCache.Store(key, idx)
	return idx, nil
}

func normName(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }

// assign stores the canonical dynamic value v of type t into dst (settable).
func assign(t *Type, v Value, dst reflect.Value) error {
	dt := dst.Type()
	if dt.Kind() == reflect.Interface {
		if v == nil {
			dst.SetZero()
			return nil
		}
		rv := reflect.ValueOf(v)
		if !rv.Type().AssignableTo(dt) {
			return typeErrf("cannot store %T in %s", v, dt)
		}
		dst.Set(rv)
		return nil
	}
	bad := func() error { return typeErrf("cannot store WIT %s value %v in Go %s", t, v, dt) }
	k := dt.Kind()
	switch t.k {
	case kBool:
		if k == reflect.Bool {
			dst.SetBool(v.(bool))
			return nil
		}
	case kS8, kS16, kS32, kS64, kU8, kU16, kU32, kU64, kOwn, kBorrow:
		var i int64
		var u uint64
		signed := true
		switch x := v.(type) {
		case int8:
			i = int64(x)
		case int16:
			i = int64(x)
		case int32:
			i = int64(x)
		case int64:
			i = x
		case uint8:
			u, signed = uint64(x), false
		case uint16:
			u, signed = uint64(x), false
		case uint32:
			u, signed = uint64(x), false
		case uint64:
			u, signed = x, false
		case Handle:
			u, signed = uint64(x), false
		}
		neg := signed && i < 0
		if signed {
			u = uint64(i)
		} else {
			i = int64(u)
		}
		switch {
		case dst.CanInt():
			if (!signed && u > math.MaxInt64) || dst.OverflowInt(i) {
				return bad()
			}
			dst.SetInt(i)
			return nil
		case dst.CanUint():
			if neg || dst.OverflowUint(u) {
				return bad()
			}
			dst.SetUint(u)
			return nil
		}
	case kF32, kF64:
		if k == reflect.Float32 || k == reflect.Float64 {
			if f, ok := v.(float32); ok {
				dst.SetFloat(float64(f))
			} else {
				dst.SetFloat(v.(float64))
			}
			return nil
		}
	case kChar:
		if k == reflect.Int32 {
			dst.SetInt(int64(v.(Char)))
			return nil
		}
	case kString:
		if k == reflect.String {
			dst.SetString(v.(string))
			return nil
		}
	case kList:
		if b, ok := v.([]byte); ok { // list<u8>
			if k == reflect.Slice && dt.Elem().Kind() == reflect.Uint8 {
				dst.Set(reflect.ValueOf(bytesClone(b)).Convert(dt))
				return nil
			}
			l := make(List, len(b))
			for i, x := range b {
				l[i] = x
			}
			v = l
		}
		l := v.(List)
		switch k {
		case reflect.Slice:
			s := reflect.MakeSlice(dt, len(l), len(l))
			for i, x := range l {
				if err := assign(t.elem, x, s.Index(i)); err != nil {
					return err
				}
			}
			dst.Set(s)
			return nil
		case reflect.Array:
			if dt.Len() != len(l) {
				return typeErrf("list of %d for Go %s", len(l), dt)
			}
			for i, x := range l {
				if err := assign(t.elem, x, dst.Index(i)); err != nil {
					return err
				}
			}
			return nil
		}
	case kTuple:
		tu := v.(Tuple)
		switch k {
		case reflect.Struct:
			j := 0
			for i := range dt.NumField() {
				if !dt.Field(i).IsExported() {
					continue
				}
				if j >= len(tu) {
					return bad()
				}
				if err := assign(t.subs[j], tu[j], dst.Field(i)); err != nil {
					return err
				}
				j++
			}
			if j != len(tu) {
				return bad()
			}
			return nil
		case reflect.Array:
			if dt.Len() != len(tu) {
				return bad()
			}
			for i, x := range tu {
				if err := assign(t.subs[i], x, dst.Index(i)); err != nil {
					return err
				}
			}
			return nil
		case reflect.Slice:
			if dt == reflect.TypeFor[Tuple]() {
				dst.Set(reflect.ValueOf(tu))
				return nil
			}
		}
	case kRecord:
		r := v.(Record)
		if dt == reflect.TypeFor[Record]() {
			dst.Set(reflect.ValueOf(r))
			return nil
		}
		if k == reflect.Struct {
			idx, err := structFields(dt, t.names)
			if err != nil {
				return err
			}
			for i := range t.names {
				if err := assign(t.subs[i], r[i].Value, dst.Field(idx[i])); err != nil {
					return fmt.Errorf("field %s: %w", t.names[i], err)
				}
			}
			return nil
		}
	case kVariant:
		if dt == reflect.TypeFor[Variant]() {
			dst.Set(reflect.ValueOf(v))
			return nil
		}
	case kEnum:
		name := string(v.(Enum))
		switch {
		case k == reflect.String:
			dst.SetString(name)
			return nil
		case dst.CanInt():
			dst.SetInt(int64(indexOf(t.names, name)))
			return nil
		case dst.CanUint():
			dst.SetUint(uint64(indexOf(t.names, name)))
			return nil
		}
	case kFlags:
		f := v.(Flags)
		switch {
		case k == reflect.Slice && dt.Elem().Kind() == reflect.String:
			s := reflect.MakeSlice(dt, len(f), len(f))
			for i, name := range f {
				s.Index(i).SetString(name)
			}
			dst.Set(s)
			return nil
		case dst.CanUint():
			if len(t.names) > dt.Bits() {
				return typeErrf("flags %s has %d flags, Go %s has %d bits", t, len(t.names), dt, dt.Bits())
			}
			var u uint64
			for _, name := range f {
				u |= 1 << indexOf(t.names, name)
			}
			dst.SetUint(u)
			return nil
		}
	case kOption:
		o := v.(Option[Value])
		if dt.Implements(typeOptionIf) {
			dst.SetZero()
			if o.Valid {
				dst.FieldByName("Valid").SetBool(true)
				return assign(t.elem, o.Value, dst.FieldByName("Value"))
			}
			return nil
		}
		if k == reflect.Pointer {
			if !o.Valid {
				dst.SetZero()
				return nil
			}
			p := reflect.New(dt.Elem())
			if err := assign(t.elem, o.Value, p.Elem()); err != nil {
				return err
			}
			dst.Set(p)
			return nil
		}
	case kResult:
		r := v.(Result[Value, Value])
		if dt.Implements(typeResultIf) {
			dst.SetZero()
			if r.IsErr {
				dst.FieldByName("IsErr").SetBool(true)
				if t.subs[1] != nil {
					return assign(t.subs[1], r.Err, dst.FieldByName("Err"))
				}
				return nil
			}
			if t.subs[0] != nil {
				return assign(t.subs[0], r.OK, dst.FieldByName("OK"))
			}
			return nil
		}
	}
	return bad()
}

// checkGo reports whether Go type gt can hold values of WIT type t (for binding checks).
func checkGo(t *Type, gt reflect.Type) error {
	if gt.Kind() == reflect.Interface {
		if typeValue.AssignableTo(gt) || gt == typeValue {
			return nil
		}
		return typeErrf("Go %s for WIT %s", gt, t)
	}
	bad := typeErrf("Go %s for WIT %s", gt, t)
	k := gt.Kind()
	switch t.k {
	case kBool:
		if k == reflect.Bool {
			return nil
		}
	case kS8, kS16, kS32, kS64, kU8, kU16, kU32, kU64, kOwn, kBorrow:
		if isInt(k) {
			return nil
		}
	case kF32, kF64:
		if k == reflect.Float32 || k == reflect.Float64 {
			return nil
		}
	case kChar:
		if k == reflect.Int32 {
			return nil
		}
	case kString:
		if k == reflect.String {
			return nil
		}
	case kList:
		if k == reflect.Slice || k == reflect.Array {
			if gt == reflect.TypeFor[List]() {
				return nil
			}
			return checkGo(t.elem, gt.Elem())
		}
	case kTuple:
		if gt == reflect.TypeFor[Tuple]() {
			return nil
		}
		if k == reflect.Array {
			if gt.Len() != len(t.subs) {
				return bad
			}
			for _, e := range t.subs {
				if err := checkGo(e, gt.Elem()); err != nil {
					return err
				}
			}
			return nil
		}
		if k == reflect.Struct {
			j := 0
			for i := range gt.NumField() {
				if gt.Field(i).IsExported() {
					if j >= len(t.subs) {
						return bad
					}
					if err := checkGo(t.subs[j], gt.Field(i).Type); err != nil {
						return err
					}
					j++
				}
			}
			if j == len(t.subs) {
				return nil
			}
		}
	case kRecord:
		if gt == reflect.TypeFor[Record]() {
			return nil
		}
		if k == reflect.Struct {
			idx, err := structFields(gt, t.names)
			if err != nil {
				return err
			}
			for i, e := range t.subs {
				if err := checkGo(e, gt.Field(idx[i]).Type); err != nil {
					return fmt.Errorf("field %s: %w", t.names[i], err)
				}
			}
			return nil
		}
	case kVariant:
		if gt == reflect.TypeFor[Variant]() {
			return nil
		}
	case kEnum:
		if k == reflect.String || isInt(k) {
			return nil
		}
	case kFlags:
		if (k == reflect.Slice && gt.Elem().Kind() == reflect.String) ||
			(k >= reflect.Uint && k <= reflect.Uint64 && len(t.names) <= gt.Bits()) {
			return nil
		}
	case kOption:
		if gt.Implements(typeOptionIf) {
			f, _ := gt.FieldByName("Value")
			return checkGo(t.elem, f.Type)
		}
		if k == reflect.Pointer {
			return checkGo(t.elem, gt.Elem())
		}
	case kResult:
		if gt.Implements(typeResultIf) {
			for i, name := range []string{"OK", "Err"} {
				if t.subs[i] != nil {
					f, _ := gt.FieldByName(name)
					if err := checkGo(t.subs[i], f.Type); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	return bad
}
