// Package soak_test is hlwasm's soak test: a random mix of calls, deadlines, cancellations,
// traps, WASI stdio and sandbox churn from 8 goroutines for a set time, with every result
// checked and a leak check (descriptors, goroutines, OS threads, RSS) at the end.
//
// It runs only when asked for: `make soak SOAK_TIME=2m` (`make test` runs a short one), or
//
//	SOAK_TIME=30s go test -count=1 -v -run TestSoak ./tests/soak
//	go test -count=1 -v -run TestSoak ./tests/soak -soak.time=30s
//
// SOAK_SEED (or -soak.seed) repeats a run's random choices (the schedule still differs).
package soak_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
)

var (
	soakTime = flag.Duration("soak.time", 0, "run TestSoak for this long (default: $SOAK_TIME; unset: skip)")
	soakSeed = flag.Uint64("soak.seed", 0, "random seed (default: $SOAK_SEED, else from the clock)")
)

const (
	soakWasm  = "testdata/soak.wasm"
	stdioWasm = "../testdata/wasi/stdio.wasm" // echo: stdin → stdout, "err\n" → stderr

	callWorkers  = 6 // goroutines calling Module.Call
	churnWorkers = 2 // goroutines churning sandboxes (NewSandbox, Call, Reset, Close)
	maxOps       = 1_000_000

	callTimeout = 10 * time.Second // host.Config.CallTimeout: bounds calls without a deadline
	lateSlack   = 5 * time.Second  // a call ending this long after its deadline is a hang

	fdSlack        = 8
	threadSlack    = 8
	goroutineSlack = 4
	rssSlackKiB    = 64 << 10
	maxFailures    = 20
)

// soakDuration is how long to run; zero means skip.
func soakDuration(t *testing.T) time.Duration {
	if *soakTime > 0 {
		return *soakTime
	}
	s := os.Getenv("SOAK_TIME")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_TIME=%q: want a positive duration such as 2m", s)
	}
	return d
}

func seed(t *testing.T) uint64 {
	if *soakSeed != 0 {
		return *soakSeed
	}
	if s := os.Getenv("SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// lcg is what the guest's spin(n, x) computes: n steps of x*a+c (mod 2^64), by squaring.
func lcg(n, x uint64) uint64 {
	ga, gc := uint64(6364136223846793005), uint64(1442695040888963407) // f^(2^k)
	ra, rc := uint64(1), uint64(0)                                     // f^(bits so far)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			ra, rc = ga*ra, ga*rc+gc
		}
		ga, gc = ga*ga, ga*gc+gc
	}
	return ra*x + rc
}

func TestLCG(t *testing.T) {
	x := uint64(12345)
	for n := uint64(0); n < 300; n++ {
		if got := lcg(n, 12345); got != x {
			t.Fatalf("lcg(%d) = %#x, want %#x", n, got, x)
		}
		x = x*6364136223846793005 + 1442695040888963407
	}
}

// sample is one reading of the process's resources.
type sample struct {
	fds, goroutines, threads int
	rssKiB                   int64
}

func (s sample) String() string {
	return fmt.Sprintf("fds=%d goroutines=%d threads=%d rss=%.1fMiB", s.fds, s.goroutines, s.threads, float64(s.rssKiB)/1024)
}

func readSample(t *testing.T) sample {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var s sample
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	s.fds = len(ents) - 1 // the ReadDir's own descriptor
	s.goroutines = runtime.NumGoroutine()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Threads:":
			s.threads, _ = strconv.Atoi(f[1])
		case "VmRSS:":
			s.rssKiB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return s
}

// soak is one run's shared state.
type soak struct {
	t        *testing.T
	spinNs   float64 // measured guest time per spin iteration
	inflight atomic.Int64
	stopping atomic.Bool

	mu       sync.Mutex
	outcomes map[string]int64 // "op outcome" → count
	failures int
	maxLate  time.Duration // the latest a call ended after its deadline
	lateOp   string
	lates    []time.Duration // how late each stop at a deadline or cancellation was
	lateSlow int64           // stops more than 100 ms late
	churned  int64           // sandboxes created and closed by the churn workers
	resets   int64           // Sandbox.Reset by the churn workers
}

func (s *soak) count(op, outcome string) {
	s.mu.Lock()
	s.outcomes[op+" "+outcome]++
	s.mu.Unlock()
}

// fail records a failure; the run stops after maxFailures of them.
func (s *soak) fail(format string, args ...any) {
	s.mu.Lock()
	s.failures++
	n := s.failures
	s.mu.Unlock()
	if n <= maxFailures {
		s.t.Errorf(format, args...)
	}
	if n >= maxFailures {
		s.stopping.Store(true)
	}
}

// late records how long after its deadline (or cancellation) a call ended.
func (s *soak) late(op string, d time.Duration, err error) {
	s.mu.Lock()
	if d > s.maxLate {
		s.maxLate, s.lateOp = d, op
	}
	s.lates = append(s.lates, d)
	if d > 100*time.Millisecond {
		s.lateSlow++
		if s.lateSlow <= 10 {
			s.t.Logf("late: %s ended %v after its deadline or cancellation: %v", op, d.Round(time.Microsecond), err)
		}
	}
	s.mu.Unlock()
	if d > lateSlack {
		s.fail("%s ended %v after its deadline or cancellation (a hang)", op, d)
	}
}

// hostFunctions are env.sleep (honours the call's context) and env.stall (ignores it). Both
// count themselves in inflight, so the leak check can wait for abandoned ones to finish.
func (s *soak) hostFunctions() []api.HostFunction {
	i32 := []api.ValueType{api.ValueTypeI32}
	return []api.HostFunction{
		{ModuleName: "env", Name: "sleep", ParamTypes: i32, ResultTypes: i32,
			Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
				s.inflight.Add(1)
				defer s.inflight.Add(-1)
				tm := time.NewTimer(time.Duration(uint32(stack[0])) * time.Millisecond)
				defer tm.Stop()
				select {
				case <-tm.C:
					return nil // stack[0] stays: the result is the parameter
				case <-ctx.Done():
					return ctx.Err()
				}
			}},
		{ModuleName: "env", Name: "stall", ParamTypes: i32, ResultTypes: i32,
			Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
				s.inflight.Add(1)
				defer s.inflight.Add(-1)
				time.Sleep(time.Duration(uint32(stack[0])) * time.Millisecond)
				return nil
			}},
	}
}

// modules are the soak module and the WASI stdio module, loaded on one runtime.
type modules struct{ soak, stdio *host.Module }

func (s *soak) load(rt *host.Runtime) modules {
	s.t.Helper()
	ctx := context.Background()
	var ms modules
	for _, m := range []struct {
		path string
		dst  **host.Module
	}{{soakWasm, &ms.soak}, {stdioWasm, &ms.stdio}} {
		b, err := os.ReadFile(m.path)
		if err != nil {
			s.t.Fatal(err)
		}
		if *m.dst, err = rt.LoadModule(ctx, b); err != nil {
			s.t.Fatalf("loading %s: %v", m.path, err)
		}
	}
	return ms
}

func (ms modules) close(t *testing.T) {
	for _, m := range []*host.Module{ms.soak, ms.stdio} {
		if err := m.Close(context.Background()); err != nil {
			t.Errorf("Module.Close: %v", err)
		}
	}
}

// calibrate measures the guest's time per spin iteration.
func (s *soak) calibrate(mod *host.Module) {
	const n = 2_000_000
	ctx := context.Background()
	best := time.Duration(1 << 62)
	for range 3 {
		start := time.Now()
		r, err := mod.Call(ctx, "spin", n, 1)
		el := time.Since(start)
		if err != nil || r[0] != lcg(n, 1) {
			s.t.Fatalf("spin(%d, 1) = %v, %v; want %#x", n, r, err, lcg(n, 1))
		}
		best = min(best, el)
	}
	s.spinNs = float64(best.Nanoseconds()) / n
	s.t.Logf("calibration: spin(%d) took %v: %.2f ns per iteration", n, best, s.spinNs)
}

// iters is the number of spin iterations that take about d.
func (s *soak) iters(d time.Duration) uint64 { return uint64(float64(d.Nanoseconds()) / s.spinNs) }

// outcome classifies a call's error: "ok", or one of the allowed sentinel errors' names, or
// "trap <kind>" when wantTrap is the kind raised. Anything else is returned as a failure.
func outcome(err error, wantTrap host.TrapKind, allowed ...error) (string, error) {
	if err == nil {
		if wantTrap != 0 {
			return "", fmt.Errorf("succeeded, want a %v trap", wantTrap)
		}
		return "ok", nil
	}
	var te *host.TrapError
	if errors.As(err, &te) {
		if !errors.Is(err, host.ErrTrap) {
			return "", fmt.Errorf("a TrapError that is not ErrTrap: %v", err)
		}
		if wantTrap == 0 || te.Kind != wantTrap {
			return "", fmt.Errorf("trap %v (%v), want %v", te.Kind, err, wantTrap)
		}
		return "trap", nil
	}
	// ErrUnusable wraps the failure that made the sandbox unusable (ErrDeadline, say): test it
	// first so that a deadline allowed for this call does not excuse it.
	if errors.Is(err, host.ErrUnusable) && !slices.Contains(allowed, host.ErrUnusable) {
		return "", fmt.Errorf("unexpected ErrUnusable: %v", err)
	}
	for _, a := range allowed {
		if errors.Is(err, a) {
			// Statistics only: a call that reached its export says so ("calling spin: ...");
			// otherwise the context ended before, while Module.Call waited for a pooled
			// sandbox or made a new one.
			wait := ""
			if !strings.HasPrefix(err.Error(), "calling ") {
				wait = "-before-call"
			}
			switch a {
			case host.ErrDeadline:
				return "deadline" + wait, nil
			case host.ErrCanceled:
				return "canceled" + wait, nil
			case host.ErrUnusable:
				return "unusable", nil
			}
			return a.Error(), nil
		}
	}
	return "", fmt.Errorf("undocumented error: %v (%T)", err, err)
}

// stop is how a random context ends.
type stop struct {
	ctx    context.Context
	cancel context.CancelFunc
	what   string    // "deadline", "cancel" or "" (CallTimeout only)
	at     time.Time // when it is due
}

func newStop(rng *rand.Rand, what string, max time.Duration) stop {
	d := 100 * time.Microsecond
	if max > 0 {
		d += time.Duration(rng.Int64N(int64(max)))
	}
	st := stop{what: what, at: time.Now().Add(d)}
	switch what {
	case "deadline":
		st.ctx, st.cancel = context.WithTimeout(context.Background(), d)
	case "cancel":
		var cancel context.CancelFunc
		st.ctx, cancel = context.WithCancel(context.Background())
		if rng.IntN(10) == 0 { // canceled before the call
			cancel()
			st.at, st.cancel = time.Now(), cancel
			break
		}
		tm := time.AfterFunc(d, cancel)
		st.cancel = func() { tm.Stop(); cancel() }
	default:
		st.ctx, st.cancel = context.WithCancel(context.Background())
		st.at = time.Now().Add(callTimeout)
	}
	return st
}

func (st stop) allowed() []error {
	switch st.what {
	case "deadline":
		return []error{host.ErrDeadline}
	case "cancel":
		return []error{host.ErrCanceled}
	}
	return nil
}

// callOp makes one random Module.Call (soak.wasm, or stdio.wasm for WASI) and checks it.
func (s *soak) callOp(rng *rand.Rand, ms modules) {
	mod := ms.soak
	var (
		st       stop
		op       string
		fn       string
		params   []uint64
		want     []uint64
		wantTrap host.TrapKind
	)
	switch k := rng.IntN(100); {
	case k < 20: // guest code running past a deadline (or not: the work takes 0 to 1.25 d)
		d := time.Duration(rng.Int64N(int64(40*time.Millisecond))) + time.Millisecond
		n, x := s.iters(time.Duration(rng.Int64N(int64(d+d/4)))), rng.Uint64()
		st, op, fn, params, want = newStop(rng, "deadline", d), "spin/deadline", "spin", []uint64{n, x}, []uint64{lcg(n, x)}
	case k < 28: // guest code canceled (or not)
		n, x := s.iters(time.Duration(rng.Int64N(int64(60*time.Millisecond)))), rng.Uint64()
		st, op, fn, params, want = newStop(rng, "cancel", 30*time.Millisecond), "spin/cancel", "spin", []uint64{n, x}, []uint64{lcg(n, x)}
	case k < 33: // short guest code, no deadline of its own: must succeed
		n, x := uint64(rng.IntN(100_000)), rng.Uint64()
		st, op, fn, params, want = newStop(rng, "", 0), "spin", "spin", []uint64{n, x}, []uint64{lcg(n, x)}
	case k < 43: // a host function honouring its context
		ms := uint64(rng.IntN(30))
		st, op, fn, params, want = newStop(rng, "deadline", 30*time.Millisecond), "sleep/deadline", "sleep_then", []uint64{ms}, []uint64{ms + 1}
	case k < 48:
		ms := uint64(rng.IntN(30))
		st, op, fn, params, want = newStop(rng, "cancel", 30*time.Millisecond), "sleep/cancel", "sleep_then", []uint64{ms}, []uint64{ms + 1}
	case k < 56: // a host function ignoring its context, abandoned at the deadline
		ms := uint64(rng.IntN(20))
		st, op, fn, params, want = newStop(rng, "deadline", 20*time.Millisecond), "stall/deadline", "stall_then", []uint64{ms}, []uint64{ms + 2}
	case k < 59:
		ms := uint64(rng.IntN(20))
		st, op, fn, params, want = newStop(rng, "cancel", 20*time.Millisecond), "stall/cancel", "stall_then", []uint64{ms}, []uint64{ms + 2}
	case k < 72: // traps, and the same exports not trapping
		st = newStop(rng, "", 0)
		switch rng.IntN(5) {
		case 0:
			op, fn, wantTrap = "trap/unreachable", "trap_unreachable", host.TrapUnreachable
		case 1:
			op, fn, params, wantTrap = "trap/div0", "trap_div", []uint64{0}, host.TrapDivideByZero
		case 2:
			d := int32(rng.IntN(200) - 100)
			if d == 0 {
				d = 7
			}
			op, fn, params, want = "div", "trap_div", []uint64{uint64(uint32(d))}, []uint64{uint64(uint32(100 / d))}
		case 3:
			op, fn, params, wantTrap = "trap/oob", "trap_oob", []uint64{uint64(65533 + rng.IntN(1<<20))}, host.TrapMemoryOutOfBounds
		case 4: // in bounds: fresh memory reads 0
			op, fn, params, want = "load", "trap_oob", []uint64{uint64(rng.IntN(65533))}, []uint64{0}
		}
	case k < 85: // fresh state: the old value is always 0
		st, op, fn, want = newStop(rng, "", 0), "fresh", "fresh", []uint64{0}
	default:
		s.wasiOp(rng, ms.stdio, nil)
		return
	}
	defer st.cancel()
	r, err := mod.Call(st.ctx, fn, params...)
	end := time.Now()
	oc, bad := outcome(err, wantTrap, st.allowed()...)
	if bad == nil && oc == "ok" && wantTrap == 0 && !slices.Equal(r, want) {
		bad = fmt.Errorf("returned %v, want %v", r, want)
	}
	if bad != nil {
		s.fail("Module.Call %s%v (%s): %v", fn, params, op, bad)
		return
	}
	if oc != "ok" && oc != "trap" {
		s.late(op, end.Sub(st.at), err)
	}
	s.count(op, oc)
}

// wasiOp runs stdio.wasm's echo with per-call stdio, on Module.Call (sb nil) or a sandbox;
// sometimes with a deadline. It returns whether sb (if any) is still usable.
func (s *soak) wasiOp(rng *rand.Rand, mod *host.Module, sb *host.Sandbox) bool {
	payload := make([]byte, rng.IntN(4096))
	for i := range payload {
		payload[i] = byte('a' + rng.IntN(26))
	}
	what := ""
	if rng.IntN(4) == 0 {
		what = "deadline"
	}
	st := newStop(rng, what, 5*time.Millisecond)
	defer st.cancel()
	var out, errs bytes.Buffer
	ctx := wasi.WithStdio(st.ctx, wasi.Stdio{Stdin: bytes.NewReader(payload), Stdout: &out, Stderr: &errs})
	op := "wasi/echo"
	if what != "" {
		op += "/deadline"
	}
	var r []uint64
	var err error
	if sb != nil {
		op = "sandbox " + op
		r, err = sb.Call(ctx, "echo")
	} else {
		r, err = mod.Call(ctx, "echo")
	}
	end := time.Now()
	oc, bad := outcome(err, 0, st.allowed()...)
	if bad == nil && oc == "ok" {
		switch {
		case len(r) != 1 || r[0] != uint64(len(payload)):
			bad = fmt.Errorf("returned %v, want [%d]", r, len(payload))
		case !bytes.Equal(out.Bytes(), payload):
			bad = fmt.Errorf("stdout has %d bytes (%.20q...), want the %d-byte stdin", out.Len(), out.String(), len(payload))
		case errs.String() != "err\n":
			bad = fmt.Errorf("stderr %q, want \"err\\n\"", errs.String())
		}
	}
	if bad != nil {
		s.fail("%s (%d bytes): %v", op, len(payload), bad)
		return false
	}
	if oc != "ok" {
		s.late(op, end.Sub(st.at), err)
	}
	s.count(op, oc)
	return oc == "ok"
}

// churnOp makes a sandbox, calls it a few times (fresh state counted, traps keep it usable, a
// deadline makes it unusable until Reset), maybe resets it, and closes it.
func (s *soak) churnOp(rng *rand.Rand, ms modules) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if rng.IntN(5) == 0 { // a WASI sandbox: per-call stdio, reset between calls
		sb, err := ms.stdio.NewSandbox(ctx)
		if err != nil {
			s.fail("stdio NewSandbox: %v", err)
			return
		}
		for range 1 + rng.IntN(4) {
			if !s.wasiOp(rng, ms.stdio, sb) || rng.IntN(2) == 0 {
				if err := sb.Reset(ctx); err != nil {
					s.fail("stdio Sandbox.Reset: %v", err)
					break
				}
				s.mu.Lock()
				s.resets++
				s.mu.Unlock()
			}
		}
		s.closeSandbox(sb)
		return
	}
	sb, err := ms.soak.NewSandbox(ctx)
	if err != nil {
		s.fail("NewSandbox: %v", err)
		return
	}
	defer s.closeSandbox(sb)
	next := uint64(0) // what fresh returns next
	call := func(op string, st stop, wantTrap host.TrapKind, want []uint64, fn string, params ...uint64) string {
		defer st.cancel()
		r, err := sb.Call(st.ctx, fn, params...)
		end := time.Now()
		oc, bad := outcome(err, wantTrap, st.allowed()...)
		if bad == nil && oc == "ok" && wantTrap == 0 && !slices.Equal(r, want) {
			bad = fmt.Errorf("returned %v, want %v", r, want)
		}
		if bad != nil {
			s.fail("Sandbox.Call %s%v (%s): %v", fn, params, op, bad)
			return "bad"
		}
		if oc != "ok" && oc != "trap" {
			s.late("sandbox "+op, end.Sub(st.at), err)
		}
		s.count("sandbox "+op, oc)
		return oc
	}
	for range 1 + rng.IntN(10) {
		var oc string
		switch k := rng.IntN(100); {
		case k < 30:
			oc = call("fresh", newStop(rng, "", 0), 0, []uint64{next}, "fresh")
			next++
		case k < 40:
			n, x := uint64(rng.IntN(100_000)), rng.Uint64()
			oc = call("spin", newStop(rng, "", 0), 0, []uint64{lcg(n, x)}, "spin", n, x)
		case k < 55:
			switch rng.IntN(3) {
			case 0:
				oc = call("trap/unreachable", newStop(rng, "", 0), host.TrapUnreachable, nil, "trap_unreachable")
			case 1:
				oc = call("trap/div0", newStop(rng, "", 0), host.TrapDivideByZero, nil, "trap_div", 0)
			case 2:
				oc = call("trap/oob", newStop(rng, "", 0), host.TrapMemoryOutOfBounds, nil, "trap_oob", uint64(65533+rng.IntN(1<<20)))
			}
		case k < 70:
			d := time.Duration(rng.Int64N(int64(20*time.Millisecond))) + time.Millisecond
			n, x := s.iters(time.Duration(rng.Int64N(int64(d+d/4)))), rng.Uint64()
			oc = call("spin/deadline", newStop(rng, "deadline", d), 0, []uint64{lcg(n, x)}, "spin", n, x)
		case k < 78:
			ms := uint64(rng.IntN(20))
			oc = call("sleep/deadline", newStop(rng, "deadline", 20*time.Millisecond), 0, []uint64{ms + 1}, "sleep_then", ms)
		case k < 86:
			ms := uint64(rng.IntN(10))
			oc = call("stall/deadline", newStop(rng, "deadline", 10*time.Millisecond), 0, []uint64{ms + 2}, "stall_then", ms)
		default:
			if err := sb.Reset(ctx); err != nil {
				s.fail("Sandbox.Reset: %v", err)
				return
			}
			s.mu.Lock()
			s.resets++
			s.mu.Unlock()
			next = 0
			oc = "ok"
		}
		switch oc {
		case "bad":
			return
		case "deadline", "canceled":
			// The sandbox is unusable until Reset: every call says so.
			r, err := sb.Call(context.Background(), "fresh")
			if !errors.Is(err, host.ErrUnusable) {
				s.fail("Sandbox.Call after a deadline: %v, %v; want ErrUnusable", r, err)
				return
			}
			s.count("sandbox after-deadline", "unusable")
			if rng.IntN(2) == 0 {
				return // closed while unusable
			}
			if err := sb.Reset(ctx); err != nil {
				s.fail("Sandbox.Reset after a deadline: %v", err)
				return
			}
			s.mu.Lock()
			s.resets++
			s.mu.Unlock()
			next = 0
		}
	}
}

func (s *soak) closeSandbox(sb *host.Sandbox) {
	if err := sb.Close(context.Background()); err != nil {
		s.fail("Sandbox.Close: %v", err)
	}
	s.mu.Lock()
	s.churned++
	s.mu.Unlock()
}

// run runs the workers for d and waits for them.
func (s *soak) run(ms modules, d time.Duration, seed uint64, sampleEvery time.Duration) {
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range callWorkers + churnWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ops := 0; ops < maxOps && time.Now().Before(end) && !s.stopping.Load(); ops++ {
				if w < callWorkers {
					s.callOp(rng, ms)
				} else {
					s.churnOp(rng, ms)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	watchdog := time.NewTimer(d + 2*time.Minute)
	defer watchdog.Stop()
	start := time.Now()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			s.t.Logf("%6.1fs: %v (modules open)", time.Since(start).Seconds(), readSample(s.t))
		case <-watchdog.C:
			debug.SetTraceback("all")
			panic(fmt.Sprintf("soak workers still running %v after the end: a hang", 2*time.Minute))
		}
	}
}

// settle waits (bounded) until no host function is in flight and ok(sample) holds, or the
// goroutine count stops changing when ok is nil; it returns the last sample.
func (s *soak) settle(ok func(sample) bool) sample {
	deadline := time.Now().Add(20 * time.Second)
	var prev sample
	stable := 0
	for {
		cur := readSample(s.t)
		if s.inflight.Load() == 0 {
			if ok != nil && ok(cur) {
				return cur
			}
			if cur.goroutines == prev.goroutines && cur.fds == prev.fds {
				stable++
			} else {
				stable = 0
			}
			if ok == nil && stable >= 5 {
				return cur
			}
		}
		if time.Now().After(deadline) {
			s.t.Logf("settle: gave up waiting after 20s (%d host functions in flight)", s.inflight.Load())
			return cur
		}
		prev = cur
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSoak(t *testing.T) {
	d := soakDuration(t)
	if d == 0 {
		t.Skip("soak test: set SOAK_TIME (make soak SOAK_TIME=2m) or -soak.time to run it")
	}
	sd := seed(t)
	t.Logf("soak: %v, seed %d (SOAK_SEED=%d repeats the random choices), %d call + %d churn goroutines, GOMAXPROCS %d",
		d, sd, sd, callWorkers, churnWorkers, runtime.GOMAXPROCS(0))
	s := &soak{t: t, outcomes: map[string]int64{}}
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{
		HostFunctions: s.hostFunctions(),
		WASI:          &wasi.Config{},
		CallTimeout:   callTimeout,
		PoolSize:      4,
	})
	if err != nil {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip("HLWASM_SKIP_KVM=1:", err)
		}
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	before := readSample(t)
	t.Logf("start: %v", before)

	// Warm-up: the same mix on modules of their own, then closed, so that the baseline has
	// the runtime's lazily made state (thread pool, caches) and no modules, like the end.
	warm := min(max(d/10, 3*time.Second), 20*time.Second)
	wm := s.load(rt)
	s.calibrate(wm.soak)
	s.run(wm, warm, sd^0x5eed, warm+time.Second)
	wm.close(t)
	base := s.settle(nil)
	t.Logf("baseline after a %v warm-up, modules closed: %v", warm, base)
	s.mu.Lock()
	s.outcomes, s.churned, s.resets = map[string]int64{}, 0, 0
	s.maxLate, s.lates, s.lateSlow = 0, nil, 0
	s.mu.Unlock()

	start := time.Now()
	ms := s.load(rt)
	s.run(ms, d, sd, max(10*time.Second, d/6))
	elapsed := time.Since(start)
	ms.close(t)
	within := func(c sample) bool {
		return c.fds <= base.fds+fdSlack && c.threads <= base.threads+threadSlack &&
			c.goroutines <= base.goroutines+goroutineSlack && c.rssKiB <= base.rssKiB+rssSlackKiB
	}
	settleStart := time.Now()
	endS := s.settle(within)
	t.Logf("end, modules closed, settled in %v: %v", time.Since(settleStart).Round(time.Millisecond), endS)

	// Summary.
	s.mu.Lock()
	byOutcome := map[string]int64{}
	keys := make([]string, 0, len(s.outcomes))
	var total int64
	for k, n := range s.outcomes {
		keys = append(keys, k)
		byOutcome[k[strings.LastIndexByte(k, ' ')+1:]] += n
		total += n
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("  %-36s %8d", k, s.outcomes[k])
	}
	var sum []string
	for _, oc := range []string{"ok", "trap", "deadline", "deadline-before-call", "canceled", "canceled-before-call", "unusable"} {
		sum = append(sum, fmt.Sprintf("%s %d", oc, byOutcome[oc]))
	}
	slices.Sort(s.lates)
	q := func(f float64) time.Duration {
		if len(s.lates) == 0 {
			return 0
		}
		return s.lates[int(f*float64(len(s.lates)-1))].Round(time.Microsecond)
	}
	t.Logf("soak summary: %v, %d calls (%s), %d sandboxes churned, %d resets; %d stops at a deadline/cancel, late by p50 %v p99 %v p99.9 %v max %v (%s), %d over 100 ms; %d failures",
		elapsed.Round(time.Millisecond), total, strings.Join(sum, ", "), s.churned, s.resets,
		len(s.lates), q(0.5), q(0.99), q(0.999), s.maxLate.Round(time.Microsecond), s.lateOp, s.lateSlow, s.failures)
	s.mu.Unlock()

	if n := s.inflight.Load(); n != 0 {
		t.Errorf("%d host functions still running 20 s after the end", n)
	}
	if endS.fds > base.fds+fdSlack {
		t.Errorf("file descriptors grew from %d to %d (slack %d)", base.fds, endS.fds, fdSlack)
	}
	if endS.threads > base.threads+threadSlack {
		t.Errorf("OS threads grew from %d to %d (slack %d)", base.threads, endS.threads, threadSlack)
	}
	if endS.goroutines > base.goroutines+goroutineSlack {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines grew from %d to %d (slack %d):\n%s", base.goroutines, endS.goroutines, goroutineSlack, buf[:runtime.Stack(buf, true)])
	}
	if endS.rssKiB > base.rssKiB+rssSlackKiB {
		t.Errorf("RSS grew from %d KiB to %d KiB (slack %d KiB)", base.rssKiB, endS.rssKiB, rssSlackKiB)
	}
}
