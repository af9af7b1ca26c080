package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/vmm"
)

// addWasm is (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)).
var addWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60,
	0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01,
	0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20,
	0x00, 0x20, 0x01, 0x6a, 0x0b,
}

func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	runs := fs.Int("runs", 2000, "samples per call scenario")
	coldRuns := fs.Int("cold-runs", 50, "samples per create scenario")
	modPath := fs.String("module", "", "module to call (default: a built-in add(i32,i32))")
	fn := fs.String("func", "add", "export to call; it must take only i32/i64 parameters (passed as 1)")
	spin := fs.Duration("spin", time.Millisecond, "guest spin window for hot-call")
	if err := fs.Parse(args); err != nil {
		return usagef("bench: %v", err)
	}
	wasm := addWasm
	if *modPath != "" {
		var err error
		if wasm, err = os.ReadFile(*modPath); err != nil {
			return usagef("bench: %v", err)
		}
	}
	k, err := vmm.Open()
	if err != nil {
		return err
	}
	defer k.Close()

	var results []bench.Result
	emit := func(r bench.Result) {
		results = append(results, r)
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
	}
	measure := func(scenario, engine string) func([]time.Duration, time.Duration, error) error {
		return func(samples []time.Duration, wall time.Duration, err error) error {
			if err != nil {
				return fmt.Errorf("bench %s/%s: %w", scenario, engine, err)
			}
			emit(bench.Summarize(scenario, engine, samples, wall))
			return nil
		}
	}
	if err := measure("floor-create", "raw")((bench.FloorCreate(k, *coldRuns))); err != nil {
		return err
	}
	if err := measure("floor-exit", "raw")((bench.FloorExit(k, *runs))); err != nil {
		return err
	}
	if err := measure("floor-mailbox", "raw")((bench.FloorMailbox(k, *runs*10))); err != nil {
		return err
	}

	call := func(spin time.Duration) (*host.Runtime, *host.Module, []uint64, error) {
		rt, err := host.NewRuntime(ctx, host.Config{Spin: spin})
		if err != nil {
			return nil, nil, nil, err
		}
		mod, err := rt.LoadModule(ctx, wasm)
		if err != nil {
			rt.Close(ctx)
			return nil, nil, nil, err
		}
		def, ok := mod.ExportedFunction(*fn)
		if !ok {
			rt.Close(ctx)
			return nil, nil, nil, usagef("bench: no export %q", *fn)
		}
		params := make([]uint64, len(def.ParamTypes))
		for i := range params {
			params[i] = 1
		}
		return rt, mod, params, nil
	}

	// cold: new sandbox (VM create, guest boot, module load and instantiate) to first result.
	rt, mod, params, err := call(0)
	if err != nil {
		return err
	}
	var closing time.Duration
	samples, wall, err := bench.Time(*coldRuns, func() error {
		sb, err := mod.NewSandbox(ctx)
		if err != nil {
			return err
		}
		_, err = sb.Call(ctx, *fn, params...)
		t0 := time.Now()
		sb.Close(ctx)
		closing += time.Since(t0)
		return err
	})
	if err := measure("cold", "microvm")(samples, wall-closing, err); err != nil {
		return err
	}
	// warm-call: a parked sandbox, one exit per call.
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	err = measure("warm-call", "microvm")((bench.Time(*runs, func() error {
		_, err := sb.Call(ctx, *fn, params...)
		return err
	})))
	sb.Close(ctx)
	mod.Close(ctx)
	rt.Close(ctx)
	if err != nil {
		return err
	}
	// hot-call: the guest spins on the mailbox between calls, no exits.
	rt, mod, params, err = call(*spin)
	if err != nil {
		return err
	}
	sb, err = mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	sb.Call(ctx, *fn, params...) // enter the spinning state
	err = measure("hot-call", "microvm")((bench.Time(*runs*10, func() error {
		_, err := sb.Call(ctx, *fn, params...)
		return err
	})))
	sb.Close(ctx)
	mod.Close(ctx)
	rt.Close(ctx)
	if err != nil {
		return err
	}
	if !*asJSON {
		printTable(stdout, results)
	}
	return nil
}

// floorOf names the raw floor each scenario is held against.
var floorOf = map[string]string{"cold": "floor-create", "warm-call": "floor-exit", "hot-call": "floor-mailbox"}

func printTable(w io.Writer, rs []bench.Result) {
	p50 := map[string]int64{}
	for _, r := range rs {
		if r.Engine == "raw" {
			p50[r.Scenario] = r.P50
		}
	}
	fmt.Fprintf(w, "%-14s %-8s %12s %12s %14s  %s\n", "scenario", "engine", "p50", "p99", "ops/s", "p50 vs floor")
	for _, r := range rs {
		ratio := ""
		if f, ok := floorOf[r.Scenario]; ok && p50[f] > 0 {
			ratio = fmt.Sprintf("%.2fx %s", float64(r.P50)/float64(p50[f]), f)
		}
		fmt.Fprintf(w, "%-14s %-8s %12v %12v %14.0f  %s\n", r.Scenario, r.Engine,
			time.Duration(r.P50), time.Duration(r.P99), r.OpsPerSec, ratio)
	}
}
