package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// engine is one Wasm implementation under test. Benchmarks and tests iterate over engines, so a
// new column (hlwasm: see hlwasm_engine_test.go) is one more entry in engines.
type engine interface {
	Name() string
	// Load compiles and instantiates wasm (a module without imports).
	Load(ctx context.Context, wasm []byte) (instance, error)
	Close(ctx context.Context) error
}

// instance is one instantiated module.
type instance interface {
	// Call calls the exported function name; i32/i64 arguments and results are passed as
	// uint64 (i32 zero-extended), f32/f64 as raw IEEE bits, like wazero's api.Function.Call.
	Call(ctx context.Context, name string, args ...uint64) ([]uint64, error)
	Close(ctx context.Context) error
}

// compiler is optionally implemented by engines that can compile a module without
// instantiating it (modules with imports, such as a Go wasip1 program, can be compiled but not
// instantiated by Load). The returned func releases the compiled module.
type compiler interface {
	Compile(ctx context.Context, wasm []byte) (release func(), err error)
}

// errEngineUnavailable (wrapped) from an engine factory skips that engine instead of failing,
// e.g. hlwasm on a machine without /dev/kvm.
var errEngineUnavailable = errors.New("engine unavailable")

// engines constructs every engine. Entries are factories so each test/benchmark gets fresh
// state; files for further engines append to it from init().
//
// wazero's compiler is listed twice because making guest code interruptible by a context
// (RuntimeConfig.WithCloseOnContextDone) costs it a lot: it adds a check at every function entry
// and loop back-edge, ~10x slower on fib and gemm (wazero v1.12.0, amd64). hlwasm stops guests
// from outside (KVM), so "wazero-compiler-ctx" is the like-for-like column for it and
// "wazero-compiler" the best case. For the interpreter the difference is in the noise.
var engines = []func(ctx context.Context) (engine, error){
	func(ctx context.Context) (engine, error) {
		return newWazero(ctx, "wazero-interp", wazero.NewRuntimeConfigInterpreter(), true), nil
	},
	func(ctx context.Context) (engine, error) {
		return newWazero(ctx, "wazero-compiler", wazero.NewRuntimeConfigCompiler(), false), nil
	},
	func(ctx context.Context) (engine, error) {
		return newWazero(ctx, "wazero-compiler-ctx", wazero.NewRuntimeConfigCompiler(), true), nil
	},
}

// interruptible is optionally implemented by engines; Interruptible reports whether a context
// deadline or cancellation stops a running call (TestFixtureSpin skips engines where it
// does not: the call would never return).
type interruptible interface {
	Interruptible() bool
}

type wazeroEngine struct {
	name          string
	rt            wazero.Runtime
	interruptible bool
}

func newWazero(ctx context.Context, name string, cfg wazero.RuntimeConfig, interruptible bool) *wazeroEngine {
	rt := wazero.NewRuntimeWithConfig(ctx, cfg.WithCloseOnContextDone(interruptible))
	return &wazeroEngine{name: name, rt: rt, interruptible: interruptible}
}

func (e *wazeroEngine) Interruptible() bool             { return e.interruptible }
func (e *wazeroEngine) Name() string                    { return e.name }
func (e *wazeroEngine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

func (e *wazeroEngine) Compile(ctx context.Context, wasm []byte) (func(), error) {
	cm, err := e.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	// Closing the compiled module also drops it from the engine's in-memory cache, so the next
	// Compile of the same bytes really compiles again.
	return func() { cm.Close(ctx) }, nil
}

func (e *wazeroEngine) Load(ctx context.Context, wasm []byte) (instance, error) {
	cm, err := e.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	// Empty name: any number of instances of the same module may coexist.
	mod, err := e.rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		cm.Close(ctx)
		return nil, err
	}
	return &wazeroInstance{cm: cm, mod: mod, fns: map[string]api.Function{}}, nil
}

type wazeroInstance struct {
	cm  wazero.CompiledModule
	mod api.Module
	fns map[string]api.Function
}

func (i *wazeroInstance) Call(ctx context.Context, name string, args ...uint64) ([]uint64, error) {
	f, ok := i.fns[name]
	if !ok {
		if f = i.mod.ExportedFunction(name); f == nil {
			return nil, fmt.Errorf("no exported function %q", name)
		}
		i.fns[name] = f
	}
	return f.Call(ctx, args...)
}

func (i *wazeroInstance) Close(ctx context.Context) error {
	err := i.mod.Close(ctx)
	i.cm.Close(ctx)
	return err
}

// forEachEngine runs fn once per engine, each with a fresh engine, as subtests/sub-benchmarks
// named after the engine.
func forEachEngine[T interface {
	Run(string, func(T)) bool
	Helper()
	Fatal(...any)
	Logf(string, ...any)
	Cleanup(func())
}](t T, fn func(T, engine)) {
	t.Helper()
	ctx := context.Background()
	for _, mk := range engines {
		e, err := mk(ctx)
		if errors.Is(err, errEngineUnavailable) {
			t.Logf("skipping engine: %v", err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(ctx) })
		t.Run(e.Name(), func(t T) { fn(t, e) })
	}
}
