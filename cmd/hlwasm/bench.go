package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

type benchOpts struct {
	runs, coldRuns int
	spin           time.Duration
	dirty          uint64
	duration       time.Duration
	wasm           []byte
	loadWasm       []byte
	catRuns        int
	kernelRuns     int
}

func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	o := benchOpts{}
	fs.IntVar(&o.runs, "runs", 2000, "samples per call scenario")
	fs.IntVar(&o.coldRuns, "cold-runs", 50, "samples per create scenario")
	durationVar(fs, &o.spin, "spin", time.Millisecond, "guest spin window for hot-call")
	fs.Uint64Var(&o.dirty, "dirty", 4, "pages the fresh-call module dirties per call")
	durationVar(fs, &o.duration, "duration", time.Second, "length of each throughput run")
	loadPath := fs.String("load-module", "", "module for the load scenario (default: the built-in bench module)")
	resets := fs.Bool("resets", false, "also measure reset+call per reset mode for 1, 16 and 256 dirtied pages")
	chart := fs.String("chart", "", "write box plots of the latency distributions to this .svg or .png file")
	fs.IntVar(&o.catRuns, "cat-runs", 1, "runs of each cat scenario")
	fs.IntVar(&o.kernelRuns, "kernel-runs", 5, "samples per kernel scenario (one run() call each)")
	tierFlag := fs.String("tier", "compiled", "micro-VM tiers of the kernel scenarios: compiled, interp or both")
	catBytes := fs.Int64("cat-bytes", 27_000_000, "size of the file the cat scenarios copy (0: no cat scenarios)")
	only := fs.String("only", "", "run only these groups, comma-separated: floors, microvm, wazero, hostcalls, kernels, cat, wasmtime, resets")
	quick := fs.Bool("quick", false, "a smoke run: few samples of everything, a 64 KiB cat file (numbers mean little)")
	wasmtimeBin := fs.String("wasmtime", "", "also run this wasmtime-bench binary (bench/wasmtime/cmd/wasmtime-bench) in the same run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.runs < 1 || o.coldRuns < 1 || o.catRuns < 1 || o.kernelRuns < 1 || *catBytes < 0 || o.duration <= 0 {
		return usagef("bench: --runs, --cold-runs, --cat-runs and --kernel-runs must be at least 1, --duration positive, --cat-bytes not negative")
	}
	tiers, err := parseBenchTiers(*tierFlag)
	if err != nil {
		return usagef("bench: --tier: %v", err)
	}
	if *quick {
		o.runs, o.coldRuns, o.catRuns, o.kernelRuns, o.duration, *catBytes = 8, 2, 1, 1, 50*time.Millisecond, 64<<10
	}
	o.wasm, o.loadWasm = bench.Module, bench.Module
	if *loadPath != "" {
		if o.loadWasm, err = os.ReadFile(*loadPath); err != nil {
			return usagef("bench: %v", err)
		}
	}
	k, err := vmm.Open()
	if err != nil {
		return err
	}
	defer k.Close()

	var results []bench.Result
	var series []bench.Series
	// record(scenario, engine) is called before the scenario runs (in record(s, e)(bench.Time(…))
	// Go evaluates the calls left to right): it notes the process's CPU time then, and charges
	// what was used until the samples arrive to the scenario's operations (one per sample).
	record := func(scenario, engine string) func([]time.Duration, time.Duration, error) error {
		cpu0 := bench.CPUTime()
		return func(samples []time.Duration, wall time.Duration, err error) error {
			cpu := bench.CPUTime() - cpu0
			if err != nil {
				return fmt.Errorf("bench %s/%s: %w", scenario, engine, err)
			}
			series = append(series, bench.Series{Scenario: scenario, Engine: engine, Samples: samples})
			r := bench.Summarize(scenario, engine, samples, wall)
			r.SetCPU(cpu, len(samples))
			results = append(results, r)
			if *asJSON {
				b, _ := json.Marshal(r)
				fmt.Fprintln(stdout, string(b))
			}
			return nil
		}
	}
	// recordCPU adds samples whose CPU time the scenario measured itself (interleaved runs).
	recordCPU := func(scenario, engine string, samples []time.Duration, wall, cpu time.Duration) {
		series = append(series, bench.Series{Scenario: scenario, Engine: engine, Samples: samples})
		r := bench.Summarize(scenario, engine, samples, wall)
		r.SetCPU(cpu, len(samples))
		results = append(results, r)
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
	}
	type step struct {
		group string
		run   func() error
	}
	steps := []step{
		{"floors", func() error { return record("floor-create", "raw")(bench.FloorCreate(k, o.coldRuns)) }},
		{"floors", func() error { return record("floor-exit", "raw")(bench.FloorExit(k, o.runs)) }},
		{"floors", func() error { return record("floor-exit-handoff", "raw")(bench.FloorExitHandoff(k, o.runs)) }},
		{"floors", func() error { return record("floor-mailbox", "raw")(bench.FloorMailbox(k, o.runs*10)) }},
		// The throughput scenarios' floors: n callers' exits at once, each on a VM of its own, with
		// KVM_RUN issued as hlwasm does (holding the goroutine's P) and, for comparison, as an
		// ordinary system call (package vmm, RunMode).
		{"floors", func() error {
			return record("floor-throughput-1", "raw")(bench.FloorThroughput(k, 1, o.duration, vmm.RunHoldsP))
		}},
		{"floors", func() error {
			return record("floor-throughput-2", "raw")(bench.FloorThroughput(k, 2, o.duration, vmm.RunHoldsP))
		}},
		{"floors", func() error {
			return record("floor-throughput-2-syscall", "raw")(bench.FloorThroughput(k, 2, o.duration, vmm.RunReleasesP))
		}},
		{"microvm", func() error { return benchMicroVM(ctx, o, record) }},
		{"wazero", func() error { return benchWazero(ctx, o, record) }},
		{"hostcalls", func() error { return benchHostCalls(ctx, o, record) }},
		{"kernels", func() error { return benchKernels(ctx, o, tiers, recordCPU) }},
	}
	groups := map[string]bool{}
	for _, g := range strings.Split(*only, ",") {
		groups[strings.TrimSpace(g)] = true
	}
	for g := range groups {
		if *only != "" && !slices.Contains(benchGroups, g) {
			return usagef("bench: --only: unknown group %q (have %s)", g, strings.Join(benchGroups, ", "))
		}
	}
	var cat catInput
	if *catBytes > 0 && (*only == "" || groups["cat"] || groups["wasmtime"]) {
		dir, err := os.MkdirTemp("", "hlwasm-bench-cat-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if cat, err = makeCatInput(dir, *catBytes); err != nil {
			return fmt.Errorf("bench: cat input: %w", err)
		}
		steps = append(steps, step{"cat", func() error { return benchCats(ctx, o, cat, record) }})
	}
	if *wasmtimeBin != "" {
		steps = append(steps, step{"wasmtime", func() error {
			rs, err := runWasmtime(ctx, *wasmtimeBin, o, cat)
			for _, r := range rs {
				results = append(results, r)
				if *asJSON {
					b, _ := json.Marshal(r)
					fmt.Fprintln(stdout, string(b))
				}
			}
			return err
		}})
	}
	if *resets {
		steps = append(steps, step{"resets", func() error { return benchResets(ctx, o, record) }})
	}
	for _, s := range steps {
		if *only != "" && !groups[s.group] {
			continue
		}
		if err := s.run(); err != nil {
			return err
		}
	}
	if !*asJSON {
		printTable(stdout, results)
	}
	if *chart != "" {
		if err := bench.Chart(*chart, series); err != nil {
			return fmt.Errorf("bench: chart: %w", err)
		}
	}
	return nil
}

type recorder func(scenario, engine string) func([]time.Duration, time.Duration, error) error

func benchMicroVM(ctx context.Context, o benchOpts, record recorder) error {
	hostFuncs := []api.HostFunction{bench.HostAdd}
	rt, err := host.NewRuntime(ctx, host.Config{PoolSize: 2, HostFunctions: hostFuncs})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, o.wasm)
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	// cold: new sandbox (VM create, guest boot, module load and instantiate) to first result.
	if err := benchCold(ctx, "cold", mod, o, 0, record); err != nil {
		return err
	}
	// cold-idle: the same with an idle gap (untimed) between sandboxes, as requests arrive at a
	// lightly loaded server; cold-spare: that with Config.SpareSandboxes = 1, sandboxes made
	// ahead of time in the background during the gaps (their CPU time is in cpu/op).
	if err := benchCold(ctx, "cold-idle", mod, o, coldGap, record); err != nil {
		return err
	}
	spareRT, err := host.NewRuntime(ctx, host.Config{HostFunctions: hostFuncs, SpareSandboxes: 1})
	if err != nil {
		return err
	}
	defer spareRT.Close(ctx)
	spareMod, err := spareRT.LoadModule(ctx, o.wasm)
	if err != nil {
		return err
	}
	defer spareMod.Close(ctx)
	if first, err := spareMod.NewSandbox(ctx); err != nil { // the module's own; spares start
		return err
	} else {
		first.Close(ctx)
	}
	if err := benchCold(ctx, "cold-spare", spareMod, o, coldGap, record); err != nil {
		return err
	}
	if err := record("load", "microvm")(bench.Time(max(3, o.coldRuns/5), func() error {
		m, err := rt.LoadModule(ctx, o.loadWasm)
		if err == nil {
			m.Close(ctx)
		}
		return err
	})); err != nil {
		return err
	}
	// warm-call: a parked sandbox, one exit per call.
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	err = record("warm-call", "microvm")(bench.Time(o.runs, func() error {
		_, err := sb.Call(ctx, "add", 1, 2)
		return err
	}))
	if err != nil {
		sb.Close(ctx)
		return err
	}
	// host-call: a guest-to-host call, hostLoop of them per Wasm call on one sandbox, as the
	// default policy serves them (exit-less once its calls go hot). host-call-parked: the same
	// with hot phases off (HostCallSpin < 0), one exit each. Each sample is the mean of the
	// hostLoop host calls of one Wasm call.
	const hostLoop = 16
	err = record("host-call", "microvm")(perCall(o.runs/4, hostLoop, func() error {
		_, err := sb.Call(ctx, "host_loop", hostLoop)
		return err
	}))
	sb.Close(ctx)
	if err != nil {
		return err
	}
	psb, closeParked, err := benchSandbox(ctx, host.Config{HostCallSpin: -1, HostFunctions: hostFuncs}, o.wasm)
	if err != nil {
		return err
	}
	err = record("host-call-parked", "microvm")(perCall(o.runs/4, hostLoop, func() error {
		_, err := psb.Call(ctx, "host_loop", hostLoop)
		return err
	}))
	closeParked()
	if err != nil {
		return err
	}
	// fresh-call: Module.Call, each call on a sandbox in its snapshot state (reset before the
	// next call takes it).
	if err := record("fresh-call", "microvm")(bench.Time(o.runs, func() error {
		_, err := mod.Call(ctx, "dirty", o.dirty)
		return err
	})); err != nil {
		return err
	}
	for _, callers := range []int{1, 2} {
		if err := record(fmt.Sprintf("throughput-%d", callers), "microvm")(bench.Throughput(callers, o.duration, func() error {
			_, err := mod.Call(ctx, "dirty", o.dirty)
			return err
		})); err != nil {
			return err
		}
	}
	// hot-call: the guest spins on the mailbox between calls, no exits.
	hsb, closeHot, err := benchSandbox(ctx, host.Config{Spin: o.spin, HostFunctions: hostFuncs}, o.wasm)
	if err != nil {
		return err
	}
	defer closeHot()
	hsb.Call(ctx, "add", 1, 2) // enter the spinning state
	if err := record("hot-call", "microvm")(bench.Time(o.runs*10, func() error {
		_, err := hsb.Call(ctx, "add", 1, 2)
		return err
	})); err != nil {
		return err
	}
	// host-call-hot: guest-to-host calls while the caller spins: served without exits.
	return record("host-call-hot", "microvm")(perCall(o.runs, hostLoop, func() error {
		_, err := hsb.Call(ctx, "host_loop", hostLoop)
		return err
	}))
}

// coldGap is the idle time between sandboxes in cold-idle and cold-spare.
const coldGap = 3 * time.Millisecond

// benchGroups are the names --only accepts.
var benchGroups = []string{"floors", "microvm", "wazero", "hostcalls", "kernels", "cat", "wasmtime", "resets"}

// benchCold times NewSandbox + first call, with gap between sandboxes. Neither the close nor
// the gap is in a sample or the wall time (the sum of the samples); the close's CPU time is
// in cpu/op, as in wazero's cold, and so is that of anything made in the background.
func benchCold(ctx context.Context, scenario string, mod *host.Module, o benchOpts, gap time.Duration, record recorder) error {
	done := record(scenario, "microvm")
	samples := make([]time.Duration, 0, o.coldRuns)
	var wall time.Duration
	for range o.coldRuns {
		time.Sleep(gap)
		t0 := time.Now()
		sb, err := mod.NewSandbox(ctx)
		if err != nil {
			return done(nil, 0, err)
		}
		_, err = sb.Call(ctx, "add", 1, 2)
		d := time.Since(t0)
		sb.Close(ctx)
		if err != nil {
			return done(nil, 0, err)
		}
		samples, wall = append(samples, d), wall+d
	}
	return done(samples, wall, nil)
}

// benchSandbox starts a sandbox of wasm on a runtime of its own; done closes all three.
func benchSandbox(ctx context.Context, cfg host.Config, wasm []byte) (sb *host.Sandbox, done func(), err error) {
	rt, err := host.NewRuntime(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	mod, err := rt.LoadModule(ctx, wasm)
	if err == nil {
		if sb, err = mod.NewSandbox(ctx); err != nil {
			mod.Close(ctx)
		}
	}
	if err != nil {
		rt.Close(ctx)
		return nil, nil, err
	}
	return sb, func() { sb.Close(ctx); mod.Close(ctx); rt.Close(ctx) }, nil
}

// perCall times n runs of f, each making k inner calls, and reports one sample per inner call
// (each run's mean, k times), so that ops/s and CPU time per operation count inner calls.
func perCall(n, k int, f func() error) ([]time.Duration, time.Duration, error) {
	s, wall, err := bench.Time(n, f)
	out := make([]time.Duration, 0, len(s)*k)
	for _, d := range s {
		for range k {
			out = append(out, d/time.Duration(k))
		}
	}
	return out, wall, err
}

// benchWazero measures wazero (its compiler, the default on amd64) in the same run.
func benchWazero(ctx context.Context, o benchOpts, record recorder) error {
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if _, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(a, b int32) int32 { return a + b }).Export("add").Instantiate(ctx); err != nil {
		return err
	}
	if err := record("load", "wazero")(bench.Time(max(3, o.coldRuns/5), func() error {
		cm, err := r.CompileModule(ctx, o.loadWasm)
		if err == nil {
			cm.Close(ctx)
		}
		return err
	})); err != nil {
		return err
	}
	cm, err := r.CompileModule(ctx, o.wasm)
	if err != nil {
		return err
	}
	cfg := wazero.NewModuleConfig().WithName("")
	if err := record("cold", "wazero")(bench.Time(o.coldRuns, func() error {
		rr := wazero.NewRuntime(ctx)
		defer rr.Close(ctx)
		if _, err := rr.NewHostModuleBuilder("env").NewFunctionBuilder().
			WithFunc(func(a, b int32) int32 { return a + b }).Export("add").Instantiate(ctx); err != nil {
			return err
		}
		m, err := rr.Instantiate(ctx, o.wasm)
		if err != nil {
			return err
		}
		_, err = m.ExportedFunction("add").Call(ctx, 1, 2)
		return err
	})); err != nil {
		return err
	}
	inst, err := r.InstantiateModule(ctx, cm, cfg)
	if err != nil {
		return err
	}
	add := inst.ExportedFunction("add")
	if err := record("warm-call", "wazero")(bench.Time(o.runs*10, func() error {
		_, err := add.Call(ctx, 1, 2)
		return err
	})); err != nil {
		return err
	}
	hl := inst.ExportedFunction("host_loop")
	if err := record("host-call", "wazero")(perCall(o.runs, 16, func() error {
		_, err := hl.Call(ctx, 16)
		return err
	})); err != nil {
		return err
	}
	inst.Close(ctx)
	// fresh-call: instantiate, call, close per invocation.
	fresh := func() error {
		m, err := r.InstantiateModule(ctx, cm, cfg)
		if err != nil {
			return err
		}
		_, err = m.ExportedFunction("dirty").Call(ctx, o.dirty)
		m.Close(ctx)
		return err
	}
	if err := record("fresh-call", "wazero")(bench.Time(o.runs, fresh)); err != nil {
		return err
	}
	for _, callers := range []int{1, 2} {
		if err := record(fmt.Sprintf("throughput-%d", callers), "wazero")(bench.Throughput(callers, o.duration, fresh)); err != nil {
			return err
		}
	}
	return nil
}

// benchResets measures reset + call on one long-lived sandbox per reset mode, for calls that
// dirty 1, 16 and 256 pages: the data behind the default reset mode.
func benchResets(ctx context.Context, o benchOpts, record recorder) error {
	for _, mode := range []host.ResetMode{host.ResetCompare, host.ResetDirtyLog} {
		rt, err := host.NewRuntime(ctx, host.Config{ResetMode: mode, HostFunctions: []api.HostFunction{bench.HostAdd}})
		if err != nil {
			return err
		}
		mod, err := rt.LoadModule(ctx, o.wasm)
		if err != nil {
			rt.Close(ctx)
			return err
		}
		sb, err := mod.NewSandbox(ctx)
		if err != nil {
			rt.Close(ctx)
			return err
		}
		for _, pages := range []uint64{1, 16, 256} {
			err = record(fmt.Sprintf("reset-call-%s-%d", mode, pages), "microvm")(bench.Time(max(20, o.runs/10), func() error {
				if err := sb.Reset(ctx); err != nil {
					return err
				}
				_, err := sb.Call(ctx, "dirty", pages)
				return err
			}))
			if err != nil {
				break
			}
		}
		sb.Close(ctx)
		mod.Close(ctx)
		rt.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// oneCaller names the one-caller scenario a throughput scenario of several callers is held
// against: throughput-2 → throughput-1, floor-throughput-2-syscall → floor-throughput-1.
func oneCaller(scenario string) (string, bool) {
	base, rest, ok := strings.Cut(scenario, "throughput-")
	if !ok || strings.HasPrefix(rest, "1") {
		return "", false
	}
	return base + "throughput-1", true
}

// floorOf names the raw floor each scenario is held against.
var floorOf = map[string]string{"cold": "floor-create", "cold-idle": "floor-create", "cold-spare": "floor-create", "warm-call": "floor-exit", "hot-call": "floor-mailbox",
	"fresh-call": "floor-exit", "host-call": "floor-mailbox", "host-call-parked": "floor-exit", "host-call-hot": "floor-mailbox"}

func printTable(w io.Writer, rs []bench.Result) {
	p50 := map[string]int64{}
	wz, wzCPU := map[string]int64{}, map[string]int64{}
	ops := map[[2]string]float64{} // ops/s by engine and scenario
	for _, r := range rs {
		ops[[2]string{r.Engine, r.Scenario}] = r.OpsPerSec
		switch r.Engine {
		case "raw":
			p50[r.Scenario] = r.P50
		case "wazero":
			wz[r.Scenario] = r.P50
			wzCPU[r.Scenario] = r.CPUPerOp
		}
	}
	ratio := func(v int64, base map[string]int64, key, name string) string {
		if base[key] == 0 {
			return ""
		}
		return fmt.Sprintf("%.2fx %s", float64(v)/float64(base[key]), name)
	}
	fmt.Fprintf(w, "%-26s %-13s %12s %12s %12s %12s  %s\n", "scenario", "engine", "p50", "p99", "ops/s", "cpu/op", "p50 vs floor")
	for _, r := range rs {
		var cols []string
		f, ok := floorOf[r.Scenario]
		if !ok && strings.HasPrefix(r.Scenario, "reset-call") {
			f, ok = "floor-exit", true
		}
		if ok && r.Engine == "microvm" {
			cols = append(cols, ratio(r.P50, p50, f, f))
			if f == "floor-exit" { // also against the same exit driven from another goroutine
				cols = append(cols, ratio(r.P50, p50, "floor-exit-handoff", "floor-exit-handoff"))
			}
		}
		if one, ok := oneCaller(r.Scenario); ok && ops[[2]string{r.Engine, one}] > 0 {
			// n callers' throughput against one's (and, for hlwasm, the raw floor's ratio)
			cols = append(cols, fmt.Sprintf("%.2fx %s", r.OpsPerSec/ops[[2]string{r.Engine, one}], one))
			if f1, f2 := ops[[2]string{"raw", "floor-" + one}], ops[[2]string{"raw", "floor-" + r.Scenario}]; r.Engine == "microvm" && f1 > 0 && f2 > 0 {
				cols = append(cols, fmt.Sprintf("floor %.2fx", f2/f1))
			}
		}
		if vsWazero(r.Scenario) && r.Engine != "wazero" {
			cols = append(cols, ratio(r.P50, wz, r.Scenario, "wazero"))
			if isKernel(r.Scenario) { // CPU time too: on a shared machine it hides preemption
				cols = append(cols, ratio(r.CPUPerOp, wzCPU, r.Scenario, "wazero cpu/op"))
			}
		}
		fmt.Fprintf(w, "%-26s %-13s %12v %12v %12.0f %12v  %s\n", r.Scenario, r.Engine,
			time.Duration(r.P50), time.Duration(r.P99), r.OpsPerSec, time.Duration(r.CPUPerOp), strings.Join(cols, ", "))
	}
}

// runWasmtime runs the wasmtime-bench helper (a separate module: cgo stays out of hlwasm) with
// the same parameters and reads its JSON lines. It measures its own CPU time.
func runWasmtime(ctx context.Context, bin string, o benchOpts, cat catInput) ([]bench.Result, error) {
	dir, err := os.MkdirTemp("", "hlwasm-bench-wasmtime-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string][]byte{"bench.wasm": o.wasm, "hostcalls.wasm": bench.HostCalls}
	for name, b := range bench.Cats {
		files["cat-"+name+".wasm"] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	args := []string{"-module", filepath.Join(dir, "bench.wasm"), "-runs", fmt.Sprint(o.runs),
		"-cold-runs", fmt.Sprint(o.coldRuns), "-dirty", fmt.Sprint(o.dirty), "-duration", o.duration.String(),
		"-hostcalls", filepath.Join(dir, "hostcalls.wasm")}
	if cat.size > 0 {
		args = append(args, "-cat-dir", cat.dir, "-cat-input", cat.name, "-cat-sha256", fmt.Sprintf("%x", cat.sum),
			"-cat-runs", fmt.Sprint(o.catRuns))
		for _, name := range catNames {
			args = append(args, "-cat", name+"="+filepath.Join(dir, "cat-"+name+".wasm"))
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", bin, err)
	}
	var rs []bench.Result
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r bench.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return rs, fmt.Errorf("bench: %s printed %q: %w", bin, line, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
