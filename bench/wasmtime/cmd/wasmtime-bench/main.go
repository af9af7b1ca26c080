// Command wasmtime-bench measures Wasmtime on `hlwasm bench`'s scenarios and prints the same
// JSON lines (engine "wasmtime"), so `hlwasm bench --wasmtime BIN` can show it in the same run.
// It lives in this separate module so that cgo stays out of hlwasm.
//
//	go build -o wasmtime-bench ./cmd/wasmtime-bench
//	wasmtime-bench -module internal/bench/modules/bench.wasm -runs 2000 -cold-runs 50
//
// `hlwasm bench --wasmtime BIN` also passes -hostcalls (hostcalls.wasm: 1,000 host calls in one
// call) and -cat NAME=PROG with -cat-dir, -cat-input and -cat-sha256 (wazero's cat programs
// copying a generated file, output checked). Each line carries the process's CPU time per
// operation, as hlwasm bench's do.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

type result struct {
	Scenario  string  `json:"scenario"`
	Engine    string  `json:"engine"`
	P50       int64   `json:"p50_ns"`
	P99       int64   `json:"p99_ns"`
	OpsPerSec float64 `json:"ops_per_sec"`
	CPUPerOp  int64   `json:"cpu_ns_per_op"`
}

// cpuTime is this process's CPU time (user + sys, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lastCPU is the CPU time of the last timeIt, charged by emit to its samples.
var lastCPU time.Duration

func emit(scenario string, s []time.Duration, wall time.Duration) {
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := result{Scenario: scenario, Engine: "wasmtime"}
	if len(s) > 0 {
		r.P50, r.P99 = int64(s[len(s)/2]), int64(s[min(len(s)-1, len(s)*99/100)])
		r.OpsPerSec = float64(len(s)) / wall.Seconds()
		r.CPUPerOp = int64(lastCPU) / int64(len(s))
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func timeIt(n int, f func() error) ([]time.Duration, time.Duration) {
	s := make([]time.Duration, 0, n)
	cpu0 := cpuTime()
	defer func() { lastCPU = cpuTime() - cpu0 }()
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := f(); err != nil {
			fmt.Fprintln(os.Stderr, "wasmtime-bench:", err)
			os.Exit(1)
		}
		s = append(s, time.Since(t0))
	}
	return s, time.Since(start)
}

// linker links env.add, the bench module's one import.
func linker(engine *wasmtime.Engine) *wasmtime.Linker {
	l := wasmtime.NewLinker(engine)
	if err := l.FuncWrap("env", "add", func(a, b int32) int32 { return a + b }); err != nil {
		panic(err)
	}
	return l
}

func main() {
	path := flag.String("module", "internal/bench/modules/bench.wasm", "the bench module")
	runs := flag.Int("runs", 2000, "samples per call scenario")
	coldRuns := flag.Int("cold-runs", 50, "samples per create scenario")
	dirty := flag.Int("dirty", 4, "pages the fresh-call module dirties per call")
	duration := flag.Duration("duration", time.Second, "length of each throughput run")
	hostCalls := flag.String("hostcalls", "", "hostcalls.wasm: also time calls1000 (1,000 host calls)")
	var cats catFlag
	flag.Var(&cats, "cat", "NAME=PROG.wasm: also time a WASI cat program copying -cat-input (repeatable)")
	catDir := flag.String("cat-dir", "", "directory preopened as / for the cat programs")
	catInput := flag.String("cat-input", "", "file in -cat-dir the cat programs copy")
	catSum := flag.String("cat-sha256", "", "hex SHA-256 the cat programs' output must have")
	catRuns := flag.Int("cat-runs", 1, "runs of each cat program")
	flag.Parse()
	defer func() {
		if *hostCalls != "" {
			benchHostCalls(*hostCalls, max(3, *runs/100))
		}
		for _, c := range cats {
			benchCat(c[0], c[1], *catDir, *catInput, *catSum, *catRuns)
		}
	}()
	wasm, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-bench:", err)
		os.Exit(2)
	}
	engine := wasmtime.NewEngine()
	emit(timeItNamed("load", max(3, *coldRuns/5), func() error {
		_, err := wasmtime.NewModule(engine, wasm)
		return err
	}))
	// "load": compile.
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-bench:", err)
		os.Exit(1)
	}
	l := linker(engine)
	instantiate := func() (*wasmtime.Store, *wasmtime.Instance, error) {
		store := wasmtime.NewStore(engine)
		inst, err := l.Instantiate(store, mod)
		return store, inst, err
	}
	// cold: a new engine, compile, instantiate, first call.
	emit(timeItNamed("cold", *coldRuns, func() error {
		e := wasmtime.NewEngine()
		m, err := wasmtime.NewModule(e, wasm)
		if err != nil {
			return err
		}
		store := wasmtime.NewStore(e)
		inst, err := linker(e).Instantiate(store, m)
		if err != nil {
			return err
		}
		_, err = inst.GetFunc(store, "add").Call(store, 1, 2)
		return err
	}))
	store, inst, err := instantiate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-bench:", err)
		os.Exit(1)
	}
	add, hostLoop := inst.GetFunc(store, "add"), inst.GetFunc(store, "host_loop")
	emit(timeItNamed("warm-call", *runs*10, func() error {
		_, err := add.Call(store, 1, 2)
		return err
	}))
	s, w := timeIt(*runs, func() error {
		_, err := hostLoop.Call(store, 16)
		return err
	})
	var per []time.Duration // one sample per inner call, as hlwasm bench reports them
	for _, d := range s {
		for range 16 {
			per = append(per, d/16)
		}
	}
	emit("host-call", per, w)
	fresh := func() error {
		st, in, err := instantiate()
		if err != nil {
			return err
		}
		_, err = in.GetFunc(st, "dirty").Call(st, int32(*dirty))
		return err
	}
	emit(timeItNamed("fresh-call", *runs, fresh))
	for _, callers := range []int{1, 2} {
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		cpu0 := cpuTime()
		for g := 0; g < callers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local []time.Duration
				for time.Since(start) < *duration {
					t0 := time.Now()
					if err := fresh(); err != nil {
						return
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				all = append(all, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		lastCPU = cpuTime() - cpu0
		emit(fmt.Sprintf("throughput-%d", callers), all, time.Since(start))
	}
}

func timeItNamed(name string, n int, f func() error) (string, []time.Duration, time.Duration) {
	s, w := timeIt(n, f)
	return name, s, w
}
