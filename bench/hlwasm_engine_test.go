// hlwasm engine adapter for the benchmarks and fixture tests: it adds an "hlwasm" column to
// every test and benchmark in this package (skipped where /dev/kvm is unusable: host.ErrNoKVM).
//
// Uses: host.NewRuntime(ctx, host.Config{}) (*host.Runtime, error),
// rt.LoadModule(ctx, wasm) (*host.Module, error), mod.NewSandbox(ctx) (*host.Sandbox, error),
// sb.Call(ctx, name, args ...uint64) ([]uint64, error), and Close(ctx) error on runtime,
// module and sandbox.

package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/hlwasm/hlwasm/host"
)

func init() {
	for _, tier := range []host.Tier{host.TierCompiled, host.TierInterp} {
		engines = append(engines, func(ctx context.Context) (engine, error) {
			rt, err := host.NewRuntime(ctx, host.Config{Tier: tier})
			if errors.Is(err, host.ErrNoKVM) {
				return nil, fmt.Errorf("hlwasm: %w: %w", errEngineUnavailable, err)
			}
			if err != nil {
				return nil, err
			}
			return &hlwasmEngine{rt: rt, tier: tier}, nil
		})
	}
}

type hlwasmEngine struct {
	rt   *host.Runtime
	tier host.Tier
}

// Name is "hlwasm" (compiled tier, the default) or "hlwasm-interp".
func (e *hlwasmEngine) Name() string {
	if e.tier == host.TierInterp {
		return "hlwasm-interp"
	}
	return "hlwasm"
}
func (e *hlwasmEngine) Interruptible() bool             { return true } // ctx deadline stops the vCPU
func (e *hlwasmEngine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

// Load = LoadModule (the host reads the module's signatures and imports; a micro-VM parses,
// validates and instantiates it and is kept for the first sandbox) + NewSandbox (hands out
// that micro-VM). Only Call is timed by BenchmarkKernels.
func (e *hlwasmEngine) Load(ctx context.Context, wasm []byte) (instance, error) {
	mod, err := e.rt.LoadModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		mod.Close(ctx)
		return nil, err
	}
	return &hlwasmInstance{mod: mod, sb: sb}, nil
}

// Compile implements compiler for BenchmarkCompileGoModule with LoadModule, which also
// instantiates the module in its first micro-VM (hlwasm has no compile-only step). gobig.wasm
// has its WASI imports stubbed out, so LoadModule accepts it.
func (e *hlwasmEngine) Compile(ctx context.Context, wasm []byte) (func(), error) {
	mod, err := e.rt.LoadModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	return func() { mod.Close(ctx) }, nil
}

type hlwasmInstance struct {
	mod *host.Module
	sb  *host.Sandbox
}

func (i *hlwasmInstance) Call(ctx context.Context, name string, args ...uint64) ([]uint64, error) {
	return i.sb.Call(ctx, name, args...)
}

func (i *hlwasmInstance) Close(ctx context.Context) error {
	return errors.Join(i.sb.Close(ctx), i.mod.Close(ctx))
}
