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
	return makeFunc(moduleName, name, fn, true)
}

// makeFunc is Func; useDirect false always takes the reflective path (for tests).
func makeFunc(moduleName, name string, fn any, useDirect bool) (HostFunction, error) {
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
	if f := direct(fn); f != nil && useDirect {
		h.Fn = f
		return h, nil
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

// direct returns a GoFunction that calls fn without reflection, for the most common
// signatures (the same encoding as Func's reflective path), or nil. A reflective call costs
// several allocations and a few hundred nanoseconds, as much as an exit-less host call.
func direct(fn any) GoFunction {
	i32 := func(v uint64) int32 { return int32(uint32(v)) }
	r32 := func(v int32) uint64 { return uint64(uint32(v)) }
	switch f := fn.(type) {
	case func():
		return func(_ context.Context, _ Memory, _ []uint64) error { f(); return nil }
	case func() error:
		return func(_ context.Context, _ Memory, _ []uint64) error { return f() }
	case func() int32:
		return func(_ context.Context, _ Memory, s []uint64) error { s[0] = r32(f()); return nil }
	case func(int32):
		return func(_ context.Context, _ Memory, s []uint64) error { f(i32(s[0])); return nil }
	case func(int32) int32:
		return func(_ context.Context, _ Memory, s []uint64) error { s[0] = r32(f(i32(s[0]))); return nil }
	case func(int32, int32) int32:
		return func(_ context.Context, _ Memory, s []uint64) error { s[0] = r32(f(i32(s[0]), i32(s[1]))); return nil }
	case func(uint32):
		return func(_ context.Context, _ Memory, s []uint64) error { f(uint32(s[0])); return nil }
	case func(uint32) uint32:
		return func(_ context.Context, _ Memory, s []uint64) error { s[0] = uint64(f(uint32(s[0]))); return nil }
	case func(uint32, uint32) uint32:
		return func(_ context.Context, _ Memory, s []uint64) error {
			s[0] = uint64(f(uint32(s[0]), uint32(s[1])))
			return nil
		}
	case func(int64) int64:
		return func(_ context.Context, _ Memory, s []uint64) error { s[0] = uint64(f(int64(s[0]))); return nil }
	case func(int64, int64) int64:
		return func(_ context.Context, _ Memory, s []uint64) error {
			s[0] = uint64(f(int64(s[0]), int64(s[1])))
			return nil
		}
	case func(context.Context, Memory, uint32, uint32):
		return func(ctx context.Context, m Memory, s []uint64) error {
			f(ctx, m, uint32(s[0]), uint32(s[1]))
			return nil
		}
	case func(context.Context, Memory, uint32, uint32) uint32:
		return func(ctx context.Context, m Memory, s []uint64) error {
			s[0] = uint64(f(ctx, m, uint32(s[0]), uint32(s[1])))
			return nil
		}
	case func(context.Context, Memory, uint32, uint32) error:
		return func(ctx context.Context, m Memory, s []uint64) error { return f(ctx, m, uint32(s[0]), uint32(s[1])) }
	}
	return nil
}
