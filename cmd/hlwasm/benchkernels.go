package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"

	kernels "github.com/hlwasm/hlwasm/bench"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
)

// parseBenchTiers reads --tier: compiled, interp or both.
func parseBenchTiers(s string) ([]host.Tier, error) {
	if s == "both" {
		return []host.Tier{host.TierCompiled, host.TierInterp}, nil
	}
	t, err := host.ParseTier(s)
	if err != nil {
		return nil, fmt.Errorf("%w (or both)", err)
	}
	return []host.Tier{t}, nil
}

// kernelEngine names the micro-VM engine of a tier in the kernel scenarios.
func kernelEngine(t host.Tier) string {
	if t == host.TierCompiled {
		return "hlwasm"
	}
	return "hlwasm-" + t.String()
}

// benchKernels times the CPU-bound kernels (bench/kernels: one run() call per sample, checksum
// checked on every call) on each chosen tier of the micro-VM engine and on wazero's compiler, in
// this run. The module is loaded and instantiated once per engine and kernel (not timed).
func benchKernels(ctx context.Context, o benchOpts, tiers []host.Tier, record recorder) error {
	for _, k := range kernels.Kernels {
		scenario := "kernel-" + k.Name
		check := func(res []uint64) error {
			if len(res) != 1 || res[0] != k.Want {
				return fmt.Errorf("run%v = %#x, want %#x", k.Args, res, k.Want)
			}
			return nil
		}
		for _, t := range tiers {
			sb, done, err := benchSandbox(ctx, host.Config{Tier: t}, k.Wasm)
			if err != nil {
				return fmt.Errorf("bench %s/%s: %w", scenario, kernelEngine(t), err)
			}
			err = record(scenario, kernelEngine(t))(bench.Time(o.kernelRuns, func() error {
				res, err := sb.Call(ctx, "run", k.Args...)
				if err != nil {
					return err
				}
				return check(res)
			}))
			done()
			if err != nil {
				return err
			}
		}
		r := wazero.NewRuntime(ctx) // the compiler on amd64
		inst, err := r.Instantiate(ctx, k.Wasm)
		if err != nil {
			r.Close(ctx)
			return fmt.Errorf("bench %s/wazero: %w", scenario, err)
		}
		run := inst.ExportedFunction("run")
		err = record(scenario, "wazero")(bench.Time(o.kernelRuns, func() error {
			res, err := run.Call(ctx, k.Args...)
			if err != nil {
				return err
			}
			return check(res)
		}))
		r.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

func isKernel(scenario string) bool { return strings.HasPrefix(scenario, "kernel-") }
