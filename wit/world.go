package wit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	bwit "go.bytecodealliance.org/wit"
)

// RootModule is the core import module of world-level (freestanding) imported functions.
const RootModule = "$root"

// World is a resolved WIT world: its imported and exported functions, compiled for the
// Canonical ABI. The world is the allow-list: a guest can import only the functions listed
// in Imports, each bound to a Go function with [World.Bind].
type World struct {
	// Name is the world's name.
	Name string
	// Imports and Exports are the world's functions, interface functions included, in
	// declaration order.
	Imports, Exports []*Func
	// Resources are the resources the guest defines (those of exported interfaces): their
	// canonical built-ins are bound by Bind, their handles tracked per instance (see
	// [Resource], [World.Drop]).
	Resources []*Resource
	// Options configure lifting and lowering for Bind and Call; set them before Bind.
	Options Options
	// Resolve and Wit are the world as go.bytecodealliance.org/wit decoded it.
	Resolve *bwit.Resolve
	Wit     *bwit.World
}

// Func is one imported or exported function of a world.
type Func struct {
	// Name is the WIT function name ("log", "[method]file.read").
	Name string
	// Interface is the interface the function belongs to ("ns:pkg/iface@1.0.0", or the name
	// of an interface declared inline in the world), "" for a world-level function.
	Interface string
	// Module and CoreName are how a core module names the function: for an import, the
	// import module (Interface, or "$root") and field (Name); for an export, the export name
	// ("ns:pkg/iface#name", or Name) and Module is "".
	Module, CoreName string
	// Export is true for exported functions.
	Export bool
	// Params are the parameters; Result is the result type (nil: none).
	Params []Param
	Result *Type
	// Docs is the function's WIT documentation.
	Docs string
	// Def is the function as go.bytecodealliance.org/wit decoded it.
	Def *bwit.Function

	params                  *Type // the parameters as a tuple, for spilling to memory
	flatParams, flatResults []api.ValueType
	coreParams, coreResults []api.ValueType
}

// Param is one parameter of a [Func].
type Param struct {
	Name string
	Type *Type
}

// Key is how Bind, Call and Func name a function: "ns:pkg/iface@1.0.0#name" for an
// interface function, "name" for a world-level one.
func (f *Func) Key() string {
	if f.Interface == "" {
		return f.Name
	}
	return f.Interface + "#" + f.Name
}

// HandleParam returns the first parameter that is a handle of a resource (own or borrow) and
// its resource, or nil. Such a function cannot be called with values from outside the
// sandbox (a command line, an HTTP request): handles live in the sandbox of one call.
func (f *Func) HandleParam() (*Param, *Resource) {
	for i := range f.Params {
		if r := f.Params[i].Type.Resource(); r != nil {
			return &f.Params[i], r
		}
	}
	return nil, nil
}

// CoreSignature is the core function type the guest imports or exports.
func (f *Func) CoreSignature() (params, results []api.ValueType) {
	return slices.Clone(f.coreParams), slices.Clone(f.coreResults)
}

// String renders the function in WIT syntax: "name: func(a: u32) -> string".
func (f *Func) String() string {
	ps := make([]string, len(f.Params))
	for i, p := range f.Params {
		ps[i] = p.Name + ": " + p.Type.String()
	}
	s := f.Name + ": func(" + strings.Join(ps, ", ") + ")"
	if f.Result != nil {
		s += " -> " + f.Result.String()
	}
	return s
}

// Load parses WIT text (a package with one or more worlds, as in a .wit file) and returns the
// world called world ("" picks the package's only world). Syntax and resolution errors carry
// wasm-tools' message with the source location.
func Load(r io.Reader, world string) (*World, error) {
	res, err := bwit.DecodeWIT(r)
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	return FromResolve(res, world)
}

// LoadFile loads a .wit file, or a directory holding a WIT package (with a deps/ folder
// for its dependencies); see [Load]. Error locations name the file.
func LoadFile(path, world string) (*World, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	res, err := bwit.LoadWIT(abs)
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	return FromResolve(res, world)
}

// FromResolve picks world from a resolved WIT (see [Load]). With world == "", a Resolve
// holding one world yields it; with several, the last package's only world is used. world
// may also be "ns:pkg/world".
func FromResolve(res *bwit.Resolve, world string) (*World, error) {
	var ws *bwit.World
	var names []string
	for _, w := range res.Worlds {
		names = append(names, worldID(w))
		if world != "" && (w.Name == world || worldID(w) == world || w.Match(world)) {
			ws = w
		}
	}
	if world == "" {
		switch {
		case len(res.Worlds) == 1:
			ws = res.Worlds[0]
		case len(res.Packages) > 0:
			last := res.Packages[len(res.Packages)-1]
			if last.Worlds.Len() == 1 {
				last.Worlds.All()(func(_ string, w *bwit.World) bool { ws = w; return false })
			}
		}
	}
	if ws == nil {
		if world == "" {
			return nil, fmt.Errorf("%w: no world chosen; the WIT declares %d: %s", ErrNotFound, len(names), strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("%w: no world %q; the WIT declares: %s", ErrNotFound, world, strings.Join(names, ", "))
	}
	return compileWorld(res, ws)
}

func worldID(w *bwit.World) string {
	if w.Package == nil {
		return w.Name
	}
	id := w.Package.Name
	id.Extension = w.Name
	return id.String()
}

func interfaceID(key string, i *bwit.Interface) string {
	if i.Name == nil || i.Package == nil {
		return key
	}
	id := i.Package.Name
	id.Extension = *i.Name
	return id.String()
}

func compileWorld(res *bwit.Resolve, ws *bwit.World) (*World, error) {
	w := &World{Name: ws.Name, Resolve: res, Wit: ws}
	c := newCompiler()
	ws.Exports.All()(func(key string, item bwit.WorldItem) bool {
		if it, ok := item.(*bwit.InterfaceRef); ok {
			id := interfaceID(key, it.Interface)
			it.Interface.TypeDefs.All()(func(_ string, td *bwit.TypeDef) bool {
				if _, ok := td.Kind.(*bwit.Resource); ok {
					r := exportedResource(id, td)
					w.Resources = append(w.Resources, r)
					c.exported[td] = r
				}
				return true
			})
		}
		return true
	})
	var errs []error
	add := func(export bool, iface string, fn *bwit.Function) {
		f, err := c.function(export, iface, fn)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fn.Name, err))
			return
		}
		if export {
			w.Exports = append(w.Exports, f)
		} else {
			w.Imports = append(w.Imports, f)
		}
	}
	walk := func(export bool, m func(func(string, bwit.WorldItem) bool)) {
		m(func(key string, item bwit.WorldItem) bool {
			switch it := item.(type) {
			case *bwit.Function:
				add(export, "", it)
			case *bwit.InterfaceRef:
				id := interfaceID(key, it.Interface)
				it.Interface.Functions.All()(func(_ string, fn *bwit.Function) bool {
					add(export, id, fn)
					return true
				})
				if !export {
					it.Interface.TypeDefs.All()(func(_ string, td *bwit.TypeDef) bool {
						if _, ok := td.Kind.(*bwit.Resource); ok {
							add(false, id, resourceDrop(td))
						}
						return true
					})
				}
			case *bwit.TypeDef:
				if _, ok := it.Kind.(*bwit.Resource); ok && !export {
					add(false, "", resourceDrop(it))
				}
			}
			return true
		})
	}
	walk(false, ws.Imports.All())
	walk(true, ws.Exports.All())
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return w, nil
}

// resourceDrop is the function a guest imports to drop a handle of an imported resource.
func resourceDrop(td *bwit.TypeDef) *bwit.Function {
	return &bwit.Function{
		Name:   "[resource-drop]" + td.TypeName(),
		Kind:   &bwit.Freestanding{},
		Params: []bwit.Param{{Name: "self", Type: &bwit.TypeDef{Kind: &bwit.Own{Type: td}}}},
	}
}

func (c *compiler) function(export bool, iface string, fn *bwit.Function) (*Func, error) {
	f := &Func{Name: fn.Name, Interface: iface, Export: export, Def: fn, Docs: fn.Docs.Contents}
	if export {
		f.CoreName = fn.Name
		if iface != "" {
			f.CoreName = iface + "#" + fn.Name
		}
	} else {
		f.Module, f.CoreName = RootModule, fn.Name
		if iface != "" {
			f.Module = iface
		}
	}
	pt := &Type{k: kTuple}
	for _, p := range fn.Params {
		t, err := c.compile(p.Type)
		if err != nil {
			return nil, err
		}
		f.Params = append(f.Params, Param{Name: p.Name, Type: t})
		pt.subs = append(pt.subs, t)
	}
	pt.layoutRecord()
	f.params = pt
	switch len(fn.Results) {
	case 0:
	case 1:
		t, err := c.compile(fn.Results[0].Type)
		if err != nil {
			return nil, err
		}
		f.Result = t
	default: // legacy named results: a tuple
		rt := &Type{k: kTuple}
		for _, r := range fn.Results {
			t, err := c.compile(r.Type)
			if err != nil {
				return nil, err
			}
			rt.subs = append(rt.subs, t)
		}
		rt.layoutRecord()
		f.Result = rt
	}
	f.flatParams = pt.flat
	if f.Result != nil {
		f.flatResults = f.Result.flat
	}
	f.coreParams = f.flatParams
	if len(f.flatParams) > MaxFlatParams {
		f.coreParams = []api.ValueType{api.ValueTypeI32}
	}
	f.coreResults = f.flatResults
	if len(f.flatResults) > MaxFlatResults {
		if export {
			f.coreResults = []api.ValueType{api.ValueTypeI32}
		} else {
			f.coreResults = nil
			f.coreParams = append(slices.Clone(f.coreParams), api.ValueTypeI32)
		}
	}
	return f, nil
}

// Func finds an import or export by key ("ns:pkg/iface@1.0.0#name" or "name"). The
// interface may also be given without its version, or by its short name ("iface#name"),
// when that is unambiguous.
func (w *World) Func(key string, export bool) (*Func, error) {
	fs := w.Imports
	what := "import"
	if export {
		fs, what = w.Exports, "export"
	}
	var found []*Func
	for _, f := range fs {
		if f.Key() == key || (export && f.CoreName == key) {
			return f, nil
		}
	}
	iface, name, ok := strings.Cut(key, "#")
	if ok {
		for _, f := range fs {
			if f.Name != name || f.Interface == "" {
				continue
			}
			unver, _, _ := strings.Cut(f.Interface, "@")
			short := unver
			if i := strings.LastIndex(unver, "/"); i >= 0 {
				short = unver[i+1:]
			}
			if iface == unver || iface == short {
				found = append(found, f)
			}
		}
	} else {
		for _, f := range fs {
			if f.Name == key {
				found = append(found, f)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var keys []string
		for _, f := range fs {
			keys = append(keys, f.Key())
		}
		return nil, fmt.Errorf("%w: world %s has no %s %q (it has: %s)", ErrNotFound, w.Name, what, key, strings.Join(keys, ", "))
	}
	return nil, fmt.Errorf("%w: %s %q is ambiguous", ErrNotFound, what, key)
}

// String lists the world's imports and exports with their core names (for inspect).
func (w *World) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "world %s\n", worldID(w.Wit))
	for _, f := range w.Imports {
		p, r := f.CoreSignature()
		fmt.Fprintf(&b, "  import %s\n    core: %s.%s %s\n", qualified(f), f.Module, f.CoreName, api.Signature(p, r))
	}
	for _, f := range w.Exports {
		p, r := f.CoreSignature()
		fmt.Fprintf(&b, "  export %s\n    core: %s %s\n", qualified(f), f.CoreName, api.Signature(p, r))
	}
	for _, r := range w.Resources {
		fmt.Fprintf(&b, "  export resource %s\n    core: imports %s.[resource-new|resource-rep|resource-drop]%s, destructor export %s\n",
			r, r.Module, r.Name, r.Dtor)
	}
	return b.String()
}

func qualified(f *Func) string {
	if f.Interface == "" {
		return f.String()
	}
	return f.Interface + "#" + f.String()
}

// DynamicFunc is a host function over dynamic values: args has one Value per parameter;
// the result is ignored for a function without one. A returned error aborts the guest call.
type DynamicFunc func(ctx context.Context, args []Value) (Value, error)

// Instance is an instantiated guest whose exports can be called: the lead's sandboxes and
// the wazero engine implement it. Call passes and returns core values in wazero's uint64
// encoding.
type Instance interface {
	Memory() api.Memory
	Call(ctx context.Context, name string, params ...uint64) ([]uint64, error)
}

// Call calls the export key (see [World.Func]) with args — dynamic Values or Go values as
// listed for [Bind] — and returns its result lifted as a dynamic Value (nil for no result).
// cabi_realloc is called to pass strings and lists, cabi_post_<export> after the result is
// read (see [Options.HasExport]).
func (w *World) Call(ctx context.Context, inst Instance, key string, args ...any) (Value, error) {
	f, err := w.Func(key, true)
	if err != nil {
		return nil, err
	}
	return w.CallFunc(ctx, inst, f, args...)
}

// CallFunc is [World.Call] for a Func of w.Exports.
func (w *World) CallFunc(ctx context.Context, inst Instance, f *Func, args ...any) (Value, error) {
	if len(args) != len(f.Params) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrType, f.Key(), len(f.Params), len(args))
	}
	vals := make([]Value, len(args))
	for i, a := range args {
		v, err := conform(f.Params[i].Type, a)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %s: %w", f.Key(), f.Params[i].Name, err)
		}
		vals[i] = v
	}
	c := newCx(ctx, inst.Memory(), inst, &w.Options)
	defer c.finish() // borrows lent to the call end with it
	var core []uint64
	if len(f.flatParams) > MaxFlatParams {
		ptr, err := c.alloc(f.params.align, f.params.size)
		if err != nil {
			return nil, err
		}
		if err := c.store(f.params, Tuple(vals), ptr); err != nil {
			return nil, err
		}
		core = []uint64{uint64(ptr)}
	} else {
		for i, v := range vals {
			var err error
			if core, err = c.lowerFlat(f.Params[i].Type, v, core); err != nil {
				return nil, err
			}
		}
	}
	res, err := inst.Call(ctx, f.CoreName, core...)
	if err != nil {
		return nil, err
	}
	c.mem = inst.Memory() // it may have grown
	var out Value
	if f.Result != nil {
		if len(res) != len(f.coreResults) {
			return nil, fmt.Errorf("%w: %s returned %d core values, want %d", ErrType, f.CoreName, len(res), len(f.coreResults))
		}
		if len(f.flatResults) > MaxFlatResults {
			out, err = c.load(f.Result, uint32(res[0]))
		} else {
			out, err = c.liftFlat(f.Result, res)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: result: %w", f.Key(), err)
		}
	}
	post := "cabi_post_" + f.CoreName
	has := w.Options.HasExport
	if has == nil {
		if h, ok := inst.(interface{ HasExport(string) bool }); ok {
			has = h.HasExport
		}
	}
	if has != nil && has(post) {
		if _, err := inst.Call(ctx, post, res...); err != nil {
			return nil, fmt.Errorf("%s: %w", post, err)
		}
	}
	return out, nil
}

// Invoke calls an export like [World.Call] and stores the result in a Go value of type R
// (see [Bind] for the Go types each WIT type maps to; R may be any or Value).
func Invoke[R any](ctx context.Context, w *World, inst Instance, key string, args ...any) (R, error) {
	var r R
	v, err := w.Call(ctx, inst, key, args...)
	if err != nil {
		return r, err
	}
	f, _ := w.Func(key, true)
	if f.Result == nil {
		return r, nil
	}
	if err := assign(f.Result, v, reflectValueOf(&r)); err != nil {
		return r, err
	}
	return r, nil
}
