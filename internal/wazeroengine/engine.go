package wazeroengine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/errs"
)

// Config tunes the wazero runtime of a Module.
type Config struct {
	// MaxMemoryPages caps every linear memory (64 KiB pages); 0 keeps wazero's limit (65536).
	MaxMemoryPages uint32
	// Compiler selects wazero's compiler where the platform supports it (the interpreter
	// elsewhere); false always interprets. Compiling is slow for big modules (about 5 s for a
	// 2.5 MiB Go program): share a Cache between Loads of the same binary.
	Compiler bool
	// Cache, if set, keeps compiled code across Loads (NewCache).
	Cache Cache
}

// Module is a compiled guest together with its host functions, in its own wazero runtime.
// All instances of a Module call the same host functions, hence share their state (a
// wasi.Instance's descriptor table, for one): give each concurrently live guest its own Load
// with its own wasi.Instance, or run instances one after another with a wasi Reset in between.
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

// CoreFeatures is what the guest engine (wasmguest/engine) implements, so both engines accept
// the same modules: WebAssembly 2.0 with extended constant expressions, tail calls, exception
// handling and typed function references (wazero 1.12 runs exception handling in its interpreter
// and compiler). wazero 1.12 has no relaxed SIMD, multi-memory or memory64, which the guest
// engine implements: such modules run on micro-VMs only. Threads and GC are in neither.
const CoreFeatures = wapi.CoreFeaturesV2 | experimental.CoreFeaturesExtendedConst |
	experimental.CoreFeaturesTailCall | experimental.CoreFeaturesExceptionHandling |
	experimental.CoreFeaturesTypedFunctionReferences

// Load compiles wasm and registers funcs as host modules. Every function the module imports
// must be in funcs with the same signature; memory imports are refused.
func Load(ctx context.Context, wasm []byte, funcs []api.HostFunction, cfg Config) (*Module, error) {
	if cfg.MaxMemoryPages > 65536 {
		return nil, fmt.Errorf("%w: MaxMemoryPages %d > 65536", ErrConfig, cfg.MaxMemoryPages)
	}
	rc := wazero.NewRuntimeConfigInterpreter()
	if cfg.Compiler {
		rc = wazero.NewRuntimeConfig() // compiler when supported
	}
	rc = rc.WithCloseOnContextDone(true).WithCoreFeatures(CoreFeatures)
	if cfg.MaxMemoryPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MaxMemoryPages)
	}
	if cfg.Cache != nil {
		rc = rc.WithCompilationCache(cfg.Cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	m, err := load(ctx, rt, wasm, funcs)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	return m, nil
}

func load(ctx context.Context, rt wazero.Runtime, wasm []byte, funcs []api.HostFunction) (*Module, error) {
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("wazeroengine: compile: %w", err)
	}
	byName := map[[2]string]api.HostFunction{}
	var order []string // module names in first-seen order
	for _, f := range funcs {
		key := [2]string{f.ModuleName, f.Name}
		if _, dup := byName[key]; dup {
			return nil, fmt.Errorf("%w: %s.%s", ErrDuplicate, f.ModuleName, f.Name)
		}
		if f.Fn == nil {
			return nil, fmt.Errorf("%w: %s.%s has no Fn", ErrConfig, f.ModuleName, f.Name)
		}
		if !slices.Contains(order, f.ModuleName) {
			order = append(order, f.ModuleName)
		}
		byName[key] = f
	}
	for _, imp := range compiled.ImportedFunctions() {
		mod, name, _ := imp.Import()
		f, ok := byName[[2]string{mod, name}]
		if !ok {
			return nil, fmt.Errorf("%w: function %s.%s %s is not allowed", ErrImport, mod, name,
				api.Signature(valueTypes(imp.ParamTypes()), valueTypes(imp.ResultTypes())))
		}
		if !slices.Equal(valueTypes(imp.ParamTypes()), f.ParamTypes) || !slices.Equal(valueTypes(imp.ResultTypes()), f.ResultTypes) {
			return nil, fmt.Errorf("%w: function %s.%s imported as %s, provided as %s", ErrImport, mod, name,
				api.Signature(valueTypes(imp.ParamTypes()), valueTypes(imp.ResultTypes())), api.Signature(f.ParamTypes, f.ResultTypes))
		}
	}
	for _, mem := range compiled.ImportedMemories() {
		mod, name, _ := mem.Import()
		return nil, fmt.Errorf("%w: memory %s.%s (memory imports are not supported)", ErrImport, mod, name)
	}
	for _, modName := range order {
		b := rt.NewHostModuleBuilder(modName)
		for _, f := range funcs {
			if f.ModuleName == modName {
				b.NewFunctionBuilder().
					WithGoModuleFunction(goModuleFunc(f), wazeroTypes(f.ParamTypes), wazeroTypes(f.ResultTypes)).
					WithName(f.Name).
					Export(f.Name)
			}
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return nil, fmt.Errorf("wazeroengine: host module %q: %w", modName, err)
		}
	}
	return &Module{rt: rt, compiled: compiled}, nil
}

// goModuleFunc adapts an api.GoFunction: the stack conventions match; an error aborts the call
// by panicking, which wazero recovers and returns from Call.
func goModuleFunc(f api.HostFunction) wapi.GoModuleFunc {
	return func(ctx context.Context, mod wapi.Module, stack []uint64) {
		var mem api.Memory
		if m := mod.Memory(); m != nil {
			mem = memory{m}
		}
		ctx = api.WithCaller(ctx, caller{mod})
		if err := callHost(ctx, f.Fn, mem, stack); err != nil {
			panic(&HostError{Func: f.ModuleName + "." + f.Name, Err: err})
		}
	}
}

// callHost runs a host function, turning its panic into an *errs.PanicError as on micro-VMs.
func callHost(ctx context.Context, f api.GoFunction, mem api.Memory, stack []uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &errs.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return f(ctx, mem, stack)
}

func valueTypes(ts []wapi.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

func wazeroTypes(ts []api.ValueType) []wapi.ValueType {
	out := make([]wapi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = wapi.ValueType(t)
	}
	return out
}

// Instance is one instantiation of a Module.
type Instance struct {
	mod wapi.Module
}

// Instantiate creates an instance without running any start or _initialize function (the
// Wasm start section, if any, still runs as the spec requires): the caller decides what to
// call. Instances of one Module share its host functions.
func (m *Module) Instantiate(ctx context.Context) (*Instance, error) {
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("wazeroengine: instantiate: %w", callError(ctx, err))
	}
	return &Instance{mod: mod}, nil
}

// Cache keeps compiled code across Loads; Close it when done.
type Cache = wazero.CompilationCache

// NewCache makes a Cache in memory.
func NewCache() Cache { return wazero.NewCompilationCache() }

// Close releases the runtime and every instance of the module.
func (m *Module) Close() error { return m.rt.Close(context.Background()) }

// Call runs the exported function name. A host function's error comes back wrapped in
// *HostError, except *api.ExitError (proc_exit), which is returned as is; when ctx ends the
// error wraps ctx.Err(); traps can be classified with TrapKind.
func (in *Instance) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	fn := in.mod.ExportedFunction(name)
	if fn == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoExport, name)
	}
	if n := len(fn.Definition().ParamTypes()); n != len(params) {
		return nil, fmt.Errorf("%w: %s takes %d, got %d", ErrParams, name, n, len(params))
	}
	res, err := fn.Call(ctx, params...)
	if err != nil {
		return nil, callError(ctx, err)
	}
	return res, nil
}

func callError(ctx context.Context, err error) error {
	var exit *api.ExitError
	if errors.As(err, &exit) {
		return exit
	}
	var sysExit *sys.ExitError
	if errors.As(err, &sysExit) {
		switch sysExit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			if ctx.Err() != nil {
				return fmt.Errorf("wazeroengine: interrupted: %w", ctx.Err())
			}
		}
	}
	return err
}

// Memory is the instance's linear memory (nil when it has none).
func (in *Instance) Memory() api.Memory {
	if m := in.mod.Memory(); m != nil {
		return memory{m}
	}
	return nil
}

// HasExport reports whether the instance exports a function of that name (wit.Instance uses it
// to find cabi_post_* functions).
func (in *Instance) HasExport(name string) bool { return in.mod.ExportedFunction(name) != nil }

// Close closes the instance.
func (in *Instance) Close() error { return in.mod.Close(context.Background()) }

// caller is the calling instance as host functions see it (api.CallerFromContext).
type caller struct{ mod wapi.Module }

func (c caller) Memory() api.Memory {
	if m := c.mod.Memory(); m != nil {
		return memory{m}
	}
	return nil
}

// Call calls an export of the calling instance: a nested call, which wazero supports.
func (c caller) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	fn := c.mod.ExportedFunction(name)
	if fn == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoExport, name)
	}
	res, err := fn.Call(ctx, params...)
	if err != nil {
		return nil, callError(ctx, err)
	}
	return res, nil
}
