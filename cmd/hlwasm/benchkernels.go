package main

import (
	"context"
	"fmt"
	"strings"
	"time"

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
// this run. The module is loaded and instantiated once per engine and kernel (not timed), and
// the engines' calls alternate (sample k of every engine, then sample k + 1), so a change of
// machine load during the run moves all of them alike; each call's CPU time (the process's, as
// everywhere in bench) is charged to its engine.
func benchKernels(ctx context.Context, o benchOpts, tiers []host.Tier,
	record func(scenario, engine string, samples []time.Duration, wall, cpu time.Duration)) error {
	for _, k := range kernels.Kernels {
		scenario := "kernel-" + k.Name
		type eng struct {
			name string
			call func() ([]uint64, error)
			done func()
		}
		var engs []eng
		closeAll := func() {
			for _, e := range engs {
				e.done()
			}
		}
		for _, t := range tiers {
			sb, done, err := benchSandbox(ctx, host.Config{Tier: t}, k.Wasm)
			if err != nil {
				closeAll()
				return fmt.Errorf("bench %s/%s: %w", scenario, kernelEngine(t), err)
			}
			engs = append(engs, eng{kernelEngine(t), func() ([]uint64, error) { return sb.Call(ctx, "run", k.Args...) }, done})
		}
		r := wazero.NewRuntime(ctx) // the compiler on amd64
		inst, err := r.Instantiate(ctx, k.Wasm)
		if err != nil {
			r.Close(ctx)
			closeAll()
			return fmt.Errorf("bench %s/wazero: %w", scenario, err)
		}
		run := inst.ExportedFunction("run")
		engs = append(engs, eng{"wazero", func() ([]uint64, error) { return run.Call(ctx, k.Args...) }, func() { r.Close(ctx) }})
		samples := make([][]time.Duration, len(engs))
		walls, cpus := make([]time.Duration, len(engs)), make([]time.Duration, len(engs))
		for i := 0; i < o.kernelRuns && err == nil; i++ {
			for e := range engs {
				c0, t0 := bench.CPUTime(), time.Now()
				res, cerr := engs[e].call()
				d := time.Since(t0)
				cpus[e] += bench.CPUTime() - c0
				walls[e] += d
				samples[e] = append(samples[e], d)
				if cerr == nil && (len(res) != 1 || res[0] != k.Want) {
					cerr = fmt.Errorf("run%v = %#x, want %#x", k.Args, res, k.Want)
				}
				if cerr != nil {
					err = fmt.Errorf("bench %s/%s: %w", scenario, engs[e].name, cerr)
					break
				}
			}
		}
		closeAll()
		if err != nil {
			return err
		}
		for e := range engs {
			record(scenario, engs[e].name, samples[e], walls[e], cpus[e])
		}
	}
	return nil
}

func isKernel(scenario string) bool { return strings.HasPrefix(scenario, "kernel-") }
