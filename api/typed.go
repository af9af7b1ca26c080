package api

import (
	"context"
	"fmt"
	"math"
	"reflect"
)

var (
	ctxType = reflect.TypeFor[context.Context]()
	memType = reflect.TypeFor[Memory]()
	errType = reflect.TypeFor[error]()
)

// Func maps a typed Go function onto a HostFunction by reflection, like wazero's WithFunc.
// Parameters: an optional context.Context, then an optional Memory, then any of int32, uint32,
// int64, uint64, float32, float64. Results: any of those, optionally followed by an error.
func Func(moduleName, name string, fn any) (HostFunction, error) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.IsVariadic() {
		return HostFunction{}, fmt.Errorf("%w: %s.%s: %T is not a non-variadic func", ErrBadHostFunction, moduleName, name, fn)
	}
	h := HostFunction{ModuleName: moduleName, Name: name}
	in := 0
	wantCtx := in < t.NumIn() && t.In(in) == ctxType
	if wantCtx {
		in++
	}
	wantMem := in < t.NumIn() && t.In(in) == memType
	if wantMem {
		in++
	}
	firstParam := in
	for ; in < t.NumIn(); in++ {
		vt, ok := goValueType(t.In(in))
		if !ok {
			return HostFunction{}, fmt.Errorf("%w: %s.%s: parameter %d has type %v", ErrBadHostFunction, moduleName, name, in, t.In(in))
		}
		h.ParamTypes = append(h.ParamTypes, vt)
	}
	nout := t.NumOut()
	returnsErr := nout > 0 && t.Out(nout-1) == errType
	if returnsErr {
		nout--
	}
	for i := 0; i < nout; i++ {
		vt, ok := goValueType(t.Out(i))
		if !ok {
			return HostFunction{}, fmt.Errorf("%w: %s.%s: result %d has type %v", ErrBadHostFunction, moduleName, name, i, t.Out(i))
		}
		h.ResultTypes = append(h.ResultTypes, vt)
	}
	h.Fn = func(ctx context.Context, mem Memory, stack []uint64) error {
		args := make([]reflect.Value, 0, t.NumIn())
		if wantCtx {
			args = append(args, reflect.ValueOf(&ctx).Elem())
		}
		if wantMem {
			mv := reflect.New(memType).Elem()
			if mem != nil {
				mv.Set(reflect.ValueOf(mem))
			}
			args = append(args, mv)
		}
		for i := firstParam; i < t.NumIn(); i++ {
			args = append(args, decode(t.In(i), stack[i-firstParam]))
		}
		out := v.Call(args)
		if returnsErr {
			if e := out[nout]; !e.IsNil() {
				return e.Interface().(error)
			}
		}
		for i := 0; i < nout; i++ {
			stack[i] = encode(out[i])
		}
		return nil
	}
	return h, nil
}

func goValueType(t reflect.Type) (ValueType, bool) {
	switch t.Kind() {
	case reflect.Int32, reflect.Uint32:
		return ValueTypeI32, true
	case reflect.Int64, reflect.Uint64:
		return ValueTypeI64, true
	case reflect.Float32:
		return ValueTypeF32, true
	case reflect.Float64:
		return ValueTypeF64, true
	}
	return 0, false
}

func decode(t reflect.Type, v uint64) reflect.Value {
	r := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Int32:
		r.SetInt(int64(int32(uint32(v))))
	case reflect.Uint32:
		r.SetUint(uint64(uint32(v)))
	case reflect.Int64:
		r.SetInt(int64(v))
	case reflect.Uint64:
		r.SetUint(v)
	case reflect.Float32:
		r.SetFloat(float64(math.Float32frombits(uint32(v))))
	case reflect.Float64:
		r.SetFloat(math.Float64frombits(v))
	}
	return r
}

func encode(v reflect.Value) uint64 {
	switch v.Kind() {
	case reflect.Int32:
		return uint64(uint32(int32(v.Int())))
	case reflect.Uint32:
		return uint64(uint32(v.Uint()))
	case reflect.Int64:
		return uint64(v.Int())
	case reflect.Uint64:
		return v.Uint()
	case reflect.Float32:
		return uint64(math.Float32bits(float32(v.Float())))
	case reflect.Float64:
		return math.Float64bits(v.Float())
	}
	return 0
}
