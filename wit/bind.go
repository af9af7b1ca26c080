package wit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

var (
	typeCtx = reflect.TypeFor[context.Context]()
	typeErr = reflect.TypeFor[error]()
)

func reflectValueOf(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

// Bind binds Go implementations to the world's imports and returns the host functions a
// guest links: one per import, named as the guest imports it (module "ns:pkg/iface@ver" or
// "$root", field the WIT function name), with the flattened core signature. impls is keyed
// like [World.Func] ("ns:pkg/iface@1.0.0#name", "iface#name" or "name"). Every import must
// be bound ([ErrUnbound]) and every key must name an import ([ErrNotFound]): the world is
// the allow-list. The canonical built-ins of the resources the guest exports
// ([World.Resources]) are appended: they need no implementation.
//
// An implementation is a [DynamicFunc] or a Go func whose parameters are an optional
// context.Context followed by one Go value per WIT parameter, and whose results are one Go
// value for the WIT result (none if the function has no result), optionally followed by an
// error, which aborts the guest's call. Go types map to WIT types as follows (named types
// with the same underlying kind work too):
//
//	bool             bool
//	s8 … u64         any Go integer type (range-checked)
//	f32, f64         float32, float64
//	char             rune
//	string           string
//	list<T>          []T ([]byte for list<u8>), [N]T
//	tuple<…>         struct (exported fields in order), [N]T
//	record           struct: fields by `wit:"field-name"` tag, else by name ignoring case
//	                 and dashes (FooBar matches foo-bar)
//	variant          Variant
//	enum             integer type (the case index) or string (the case name)
//	flags            unsigned integer type (bit i = i-th flag) or []string
//	option<T>        Option[T] or *T
//	result<T, E>     Result[T, E] (struct{} for an absent type)
//	own, borrow      Handle or an integer type
//	any WIT type     any / Value: the dynamic value
//
// When the host function runs, arguments are lifted from the guest with every pointer,
// length, alignment, UTF-8 and discriminant checked against w.Options; a bad one makes the
// call fail with an error wrapping [ErrTrap]. Results that need guest memory (strings,
// lists) are allocated with the guest's cabi_realloc, called through the api.Caller the
// engine puts in the context (api.WithCaller).
func (w *World) Bind(impls map[string]any) ([]api.HostFunction, error) {
	bound := map[*Func]any{}
	var errs []error
	keys := make([]string, 0, len(impls))
	for k := range impls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, err := w.Func(k, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := bound[f]; dup {
			errs = append(errs, fmt.Errorf("%w: %s bound twice", ErrType, f.Key()))
			continue
		}
		bound[f] = impls[k]
	}
	var out []api.HostFunction
	var missing []string
	for _, f := range w.Imports {
		impl, ok := bound[f]
		if !ok {
			missing = append(missing, f.Key())
			continue
		}
		h, err := w.HostFunction(f, impl)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, h)
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s", ErrUnbound, strings.Join(missing, ", ")))
	}
	for _, r := range w.Resources {
		out = append(out, w.resourceBuiltins(r)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// HostFunction binds one import (a Func of w.Imports) to impl; see [World.Bind].
func (w *World) HostFunction(f *Func, impl any) (api.HostFunction, error) {
	if f.Export {
		return api.HostFunction{}, fmt.Errorf("%w: %s is an export", ErrType, f.Key())
	}
	dyn, err := dynamicOf(f, impl)
	if err != nil {
		return api.HostFunction{}, fmt.Errorf("%s: %w", f.Key(), err)
	}
	opts := w.Options
	spill := len(f.flatParams) > MaxFlatParams
	retptr := len(f.flatResults) > MaxFlatResults
	return api.HostFunction{
		ModuleName:  f.Module,
		Name:        f.CoreName,
		ParamTypes:  f.coreParams,
		ResultTypes: f.coreResults,
		Fn: func(ctx context.Context, mem api.Memory, stack []uint64) error {
			var inst caller
			if cl, ok := api.CallerFromContext(ctx); ok {
				inst = cl
				if mem == nil {
					mem = cl.Memory()
				}
			}
			if len(stack) < max(len(f.coreParams), len(f.coreResults)) {
				return fmt.Errorf("%w: %s: stack of %d values", ErrType, f.Key(), len(stack))
			}
			c := newCx(ctx, mem, inst, &opts)
			defer c.finish() // borrows the guest lent end with the host call
			args := make([]Value, len(f.Params))
			if spill {
				v, err := c.load(f.params, uint32(stack[0]))
				if err != nil {
					return fmt.Errorf("%s: arguments: %w", f.Key(), err)
				}
				copy(args, v.(Tuple))
			} else {
				i := 0
				for j, p := range f.Params {
					v, err := c.liftFlat(p.Type, stack[i:])
					if err != nil {
						return fmt.Errorf("%s: argument %s: %w", f.Key(), p.Name, err)
					}
					args[j] = v
					i += len(p.Type.flat)
				}
			}
			var rp uint32
			if retptr {
				// check the return area before the call, so a bad one has no side effects
				rp = uint32(stack[len(f.coreParams)-1])
				if err := c.check(rp, uint64(f.Result.size), f.Result.align, "return area"); err != nil {
					return fmt.Errorf("%s: %w", f.Key(), err)
				}
			}
			res, err := dyn(ctx, args)
			if err != nil {
				return err
			}
			if f.Result == nil {
				return nil
			}
			v, err := conform(f.Result, res)
			if err != nil {
				return fmt.Errorf("%s: result: %w", f.Key(), err)
			}
			if retptr {
				if err := c.store(f.Result, v, rp); err != nil {
					return fmt.Errorf("%s: result: %w", f.Key(), err)
				}
				return nil
			}
			flat, err := c.lowerFlat(f.Result, v, nil)
			if err != nil {
				return fmt.Errorf("%s: result: %w", f.Key(), err)
			}
			copy(stack, flat)
			return nil
		},
	}, nil
}

// dynamicOf turns impl into a DynamicFunc, checking a Go func's signature against f.
func dynamicOf(f *Func, impl any) (DynamicFunc, error) {
	switch fn := impl.(type) {
	case DynamicFunc:
		return fn, nil
	case func(context.Context, []Value) (Value, error):
		return fn, nil
	case nil:
		return nil, fmt.Errorf("%w: nil implementation", ErrType)
	}
	v := reflect.ValueOf(impl)
	t := v.Type()
	if t.Kind() != reflect.Func || t.IsVariadic() {
		return nil, fmt.Errorf("%w: implementation is %T, not a func", ErrType, impl)
	}
	in := 0
	wantCtx := t.NumIn() > 0 && t.In(0) == typeCtx
	if wantCtx {
		in = 1
	}
	if t.NumIn()-in != len(f.Params) {
		return nil, fmt.Errorf("%w: Go func %s takes %d values, WIT %s has %d parameters", ErrType, t, t.NumIn()-in, f, len(f.Params))
	}
	for i, p := range f.Params {
		if err := checkGo(p.Type, t.In(in+i)); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	nout := t.NumOut()
	withErr := nout > 0 && t.Out(nout-1) == typeErr
	if withErr {
		nout--
	}
	want := 0
	if f.Result != nil {
		want = 1
	}
	if nout != want {
		return nil, fmt.Errorf("%w: Go func %s returns %d values, WIT %s has %d results", ErrType, t, nout, f, want)
	}
	if want == 1 {
		if err := checkGo(f.Result, t.Out(0)); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
	}
	return func(ctx context.Context, args []Value) (Value, error) {
		in := make([]reflect.Value, 0, t.NumIn())
		if wantCtx {
			in = append(in, reflect.ValueOf(&ctx).Elem())
		}
		for i, p := range f.Params {
			a := reflect.New(t.In(len(in))).Elem()
			if err := assign(p.Type, args[i], a); err != nil {
				return nil, fmt.Errorf("argument %s: %w", p.Name, err)
			}
			in = append(in, a)
		}
		out := v.Call(in)
		if withErr {
			if e := out[nout]; !e.IsNil() {
				return nil, e.Interface().(error)
			}
		}
		if want == 1 {
			return out[0], nil // conform accepts reflect.Value
		}
		return nil, nil
	}, nil
}
