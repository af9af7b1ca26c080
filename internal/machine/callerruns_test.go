package machine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// testHost is an env.add for bench.Module that records the thread it runs on and, while block
// is set, blocks: until its context ends (honors), or until release is closed.
type testHost struct {
	tids    chan int
	release chan struct{}
	entered chan struct{}
	block   atomic.Bool
}

func newTestHost() *testHost {
	return &testHost{tids: make(chan int, 4096), release: make(chan struct{}), entered: make(chan struct{}, 64)}
}

func (h *testHost) fn(honors bool) api.HostFunction {
	return api.HostFunction{ModuleName: "env", Name: "add", HonorsContext: honors,
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			select {
			case h.tids <- unix.Gettid():
			default:
			}
			if h.block.Load() {
				h.entered <- struct{}{}
				if honors {
					<-ctx.Done()
					return ctx.Err()
				}
				<-h.release
				return nil
			}
			stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
			return nil
		}}
}

func testMachine(t testing.TB, cfg Config, f api.HostFunction) (*Machine, uint32, *Snapshot) {
	t.Helper()
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := m.DefineHost(context.Background(), []api.HostFunction{f}); err != nil {
		t.Fatal(err)
	}
	inst, err := m.Load(context.Background(), bench.Module)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Snapshot(context.Background(), ResetCompare)
	if err != nil {
		t.Fatal(err)
	}
	return m, inst, s
}

// Without exit-less host calls, a caller-runs call issues every KVM_RUN and runs every host
// function on the caller's own OS thread; with a dedicated vCPU thread no KVM_RUN is issued by
// the caller.
func TestCallerRunsOnCallerThread(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	var runTids []int
	testHookRun = func() { runTids = append(runTids, unix.Gettid()) }
	defer func() { testHookRun = nil }()
	for _, mode := range []vmm.ThreadMode{vmm.ThreadCaller, vmm.ThreadDedicated} {
		h := newTestHost()
		m, inst, _ := testMachine(t, Config{KVM: k, Thread: mode, HostCallSpin: -1}, h.fn(true))
		runTids = nil
		runtime.LockOSThread()
		caller := unix.Gettid()
		r, err := m.Call(ctx, inst, benchHostLoop, []uint64{5}, 1)
		runtime.UnlockOSThread()
		if err != nil || r[0] != 5 {
			t.Fatalf("%v: host_loop(5) = %v, %v", mode, r, err)
		}
		close(h.tids)
		n := 0
		for tid := range h.tids {
			n++
			if mode == vmm.ThreadCaller && tid != caller {
				t.Errorf("%v: host function ran on thread %d, the caller is %d", mode, tid, caller)
			}
		}
		if n != 5 {
			t.Errorf("%v: %d host calls recorded, want 5", mode, n)
		}
		switch {
		case mode == vmm.ThreadCaller && len(runTids) == 0:
			t.Errorf("caller-runs: no KVM_RUN issued by the caller")
		case mode == vmm.ThreadDedicated && len(runTids) != 0:
			t.Errorf("dedicated: the caller issued %d KVM_RUNs", len(runTids))
		}
		for _, tid := range runTids {
			if tid != caller {
				t.Errorf("%v: KVM_RUN issued on thread %d, the caller is %d", mode, tid, caller)
			}
		}
	}
}

// One goroutine calls many times and lets Go move it between threads in between (it blocks on
// channels served by other goroutines, which keeps threads changing hands): every call is
// answered right, and within a call the KVM_RUNs and host functions stay on one thread.
func TestCallerMigratesBetweenCalls(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	var runTids []int
	testHookRun = func() { runTids = append(runTids, unix.Gettid()) }
	defer func() { testHookRun = nil }()
	h := newTestHost()
	m, inst, _ := testMachine(t, Config{KVM: k, Thread: vmm.ThreadCaller, HostCallSpin: -1}, h.fn(true))
	ping := make(chan int)
	go func() {
		for v := range ping {
			runtime.LockOSThread() // hold a thread for a moment: the caller resumes elsewhere
			time.Sleep(time.Duration(v%3) * 100 * time.Microsecond)
			runtime.UnlockOSThread()
			ping <- v
		}
	}()
	threads := map[int]bool{}
	for i := uint64(0); i < 40; i++ {
		runTids = runTids[:0]
		r, err := m.Call(ctx, inst, benchHostLoop, []uint64{i % 4}, 1)
		if err != nil || r[0] != i%4 {
			t.Fatalf("call %d: %v %v", i, r, err)
		}
		for j := 0; j < int(i%4); j++ {
			if tid := <-h.tids; len(runTids) > 0 && tid != runTids[0] {
				t.Errorf("call %d: host function on thread %d, KVM_RUN on %d", i, tid, runTids[0])
			}
		}
		for _, tid := range runTids {
			threads[tid] = true
			if tid != runTids[0] {
				t.Errorf("call %d: KVM_RUN from threads %v", i, runTids)
			}
		}
		ping <- int(i)
		<-ping
	}
	close(ping)
	t.Logf("40 calls, KVM_RUN issued from %d threads", len(threads))
}

// Calls from many goroutines at once, each on its own machine, with deadlines expiring in
// guest code, in host functions and before the call reaches the guest, on both thread modes:
// every result is right, every error is ErrDeadline, and a reset machine serves again.
func TestConcurrentCallsWithDeadlines(t *testing.T) {
	k := requireKVM(t)
	const goroutines, rounds = 6, 25
	for _, mode := range []vmm.ThreadMode{vmm.ThreadCaller, vmm.ThreadDedicated} {
		t.Run(mode.String(), func(t *testing.T) {
			var wg sync.WaitGroup
			var deadlines, ok atomic.Int64
			for g := 0; g < goroutines; g++ {
				h := newTestHost()
				m, inst, s := testMachine(t, Config{KVM: k, Thread: mode}, h.fn(true))
				spin, err := m.Load(context.Background(), spinModule)
				if err != nil {
					t.Fatal(err)
				}
				if s, err = m.Snapshot(context.Background(), ResetCompare); err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < rounds; i++ {
						err := concurrentStep(m, h, inst, spin, g, i)
						switch {
						case err == nil:
							ok.Add(1)
							continue
						case errors.Is(err, ErrDeadline):
							deadlines.Add(1)
						default:
							t.Errorf("goroutine %d round %d: %v", g, i, err)
							return
						}
						if _, err := m.Reset(context.Background(), s); err != nil {
							t.Errorf("reset: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			t.Logf("%d calls answered, %d deadlines", ok.Load(), deadlines.Load())
		})
	}
}

// concurrentStep makes call i of goroutine g: a result it checks, or an error to classify.
func concurrentStep(m *Machine, h *testHost, inst, spin uint32, g, i int) error {
	bg := context.Background()
	switch i % 5 {
	case 0: // host calls (enough to go hot)
		n := uint64(10 + i)
		r, err := m.Call(bg, inst, benchHostLoop, []uint64{n}, 1)
		if err == nil && r[0] != n {
			return fmt.Errorf("host_loop(%d) = %d", n, r[0])
		}
		return err
	case 1: // a deadline in guest code
		ctx, cancel := context.WithTimeout(bg, time.Duration(1+i%3)*time.Millisecond)
		defer cancel()
		_, err := m.Call(ctx, spin, 0, nil, 0)
		if err == nil {
			return errors.New("spin returned")
		}
		return err
	case 2: // a deadline in a host function that honors it
		ctx, cancel := context.WithTimeout(bg, time.Millisecond)
		defer cancel()
		h.block.Store(true)
		defer h.block.Store(false)
		_, err := m.Call(ctx, inst, benchHostLoop, []uint64{3}, 1)
		if err == nil {
			return errors.New("blocked host function returned")
		}
		return err
	case 3: // a deadline that expires while the call is set up, or races its exits
		ctx, cancel := context.WithTimeout(bg, time.Duration(i%4)*20*time.Microsecond)
		defer cancel()
		r, err := m.Call(ctx, inst, benchAdd, []uint64{uint64(g), uint64(i)}, 1)
		if err == nil && r[0] != uint64(g+i) {
			return fmt.Errorf("add(%d, %d) = %d", g, i, r[0])
		}
		return err
	default:
		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		r, err := m.Call(ctx, inst, benchAdd, []uint64{uint64(g), uint64(i)}, 1)
		if err == nil && r[0] != uint64(g+i) {
			return fmt.Errorf("add(%d, %d) = %d", g, i, r[0])
		}
		return err
	}
}

// Close from another goroutine stops a call that is inside KVM_RUN on its caller's thread (a
// guest spinning in Wasm code) or waiting for a host function that ignores its context (which
// runs on the machine's server goroutine when the call has a deadline): the call ends with ErrClosed.
func TestCloseDuringCall(t *testing.T) {
	k := requireKVM(t)
	for _, mode := range []vmm.ThreadMode{vmm.ThreadCaller, vmm.ThreadDedicated} {
		t.Run(mode.String()+"/guest", func(t *testing.T) {
			h := newTestHost()
			m, _, _ := testMachine(t, Config{KVM: k, Thread: mode}, h.fn(true))
			spin, err := m.Load(context.Background(), spinModule)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { _, err := m.Call(context.Background(), spin, 0, nil, 0); errc <- err }()
			time.Sleep(5 * time.Millisecond) // let it enter the guest (either way it must end)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Fatalf("call ended with %v, want ErrClosed", err)
			}
		})
		t.Run(mode.String()+"/host", func(t *testing.T) {
			h := newTestHost()
			defer close(h.release)
			m, inst, _ := testMachine(t, Config{KVM: k, Thread: mode}, h.fn(false))
			h.block.Store(true)
			errc := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				_, err := m.Call(ctx, inst, benchHostLoop, []uint64{1}, 1)
				errc <- err
			}()
			<-h.entered
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Fatalf("call ended with %v, want ErrClosed", err)
			}
		})
	}
}

// A call with many host calls goes exit-less once the threshold is reached, and every answer
// is still right; with HostCallSpin < 0 it never does. (Whether a hot phase wins depends on a
// second core being free: only the bookkeeping is asserted.)
func TestHotPhase(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	for _, spin := range []time.Duration{-1, 0} {
		h := newTestHost()
		m, inst, _ := testMachine(t, Config{KVM: k, Thread: vmm.ThreadCaller, HostCallSpin: spin}, h.fn(true))
		for i := 0; i < 5; i++ {
			r, err := m.Call(ctx, inst, benchHostLoop, []uint64{300}, 1)
			if err != nil || r[0] != 300 {
				t.Fatalf("spin %v: host_loop(300) = %v, %v", spin, r, err)
			}
		}
		hs := m.Hot()
		t.Logf("HostCallSpin %v: %+v", spin, hs)
		if hs.Hot {
			t.Errorf("still hot after the call")
		}
		if spin < 0 && (hs.Phases != 0 || hs.Served != 0) {
			t.Errorf("HostCallSpin < 0 went hot: %+v", hs)
		}
		if spin >= 0 && hs.Phases == 0 {
			t.Errorf("1500 host calls in 5 calls never went hot: %+v", hs)
		}
	}
}

// A call of an export whose last hot phase paid starts hot, and a hot call that paid leaves
// its guest spinning on the mailbox (endHot). Whether a phase pays depends on the machine's
// load, so this checks what must hold either way: every result, every host function on the
// caller's thread, and whatever comes next — a call of another export, a deadline, a reset, a
// snapshot, Close — served correctly while the guest may still be spinning from the call before.
func TestHotStartAndLinger(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	h := newTestHost()
	m, inst, s := testMachine(t, Config{KVM: k}, h.fn(true))
	const loop = 1000
	hostLoop := func(ctx context.Context) {
		t.Helper()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		caller := unix.Gettid()
		for len(h.tids) > 0 {
			<-h.tids
		}
		if r, err := m.Call(ctx, inst, benchHostLoop, []uint64{loop}, 1); err != nil || r[0] != loop {
			t.Fatalf("host_loop(%d) = %v, %v", loop, r, err)
		}
		for len(h.tids) > 0 {
			if tid := <-h.tids; tid != caller {
				t.Fatalf("host function ran on thread %d, the caller is %d", tid, caller)
			}
		}
	}
	const add = 1 // bench.Module's export "add"
	for i := range 3 {
		hostLoop(ctx)
		hostLoop(ctx)
		if r, err := m.Call(ctx, inst, add, []uint64{2, 3}, 1); err != nil || r[0] != 5 {
			t.Fatalf("round %d: add(2, 3) = %v, %v", i, r, err)
		}
		hostLoop(ctx)
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		hostLoop(dctx)
		cancel()
		if _, err := m.Reset(ctx, s); err != nil {
			t.Fatalf("round %d: reset: %v", i, err)
		}
		hostLoop(ctx)
		if _, err := m.Snapshot(ctx, ResetCompare); err != nil {
			t.Fatalf("round %d: snapshot: %v", i, err)
		}
	}
	t.Logf("hot: %+v, parks %d", m.Hot(), m.Stats().Parks)
	hostLoop(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close after a hot call did not return")
	}
}

// A host function that outlasts the guest's spin (HostCallSpin/2) makes the guest park while it
// runs: such an answer costs an exit and a wake-up of the vCPU's thread in a hot phase, so it
// does not count as served without an exit, and host calls like it end the phase like parks
// (their calls then serve them after park exits, on the caller's thread).
func TestLongHostCallsEndHotPhase(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	slow := api.HostFunction{ModuleName: "env", Name: "add", HonorsContext: true,
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			time.Sleep(time.Millisecond) // 40 times the guest's spin
			stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
			return nil
		}}
	m, inst, _ := testMachine(t, Config{KVM: k}, slow)
	const loop, calls = 20, 4
	for range calls {
		if r, err := m.Call(ctx, inst, benchHostLoop, []uint64{loop}, 1); err != nil || r[0] != loop {
			t.Fatalf("host_loop(%d) = %v, %v", loop, r, err)
		}
	}
	// A guest whose thread the host's scheduler held off through a whole 1 ms host call (a loaded
	// machine) does take its answer from the mailbox: most must not.
	h := m.Hot()
	if h.Served*4 >= loop*calls {
		t.Errorf("%d of %d host calls of 1 ms counted as served without an exit", h.Served, loop*calls)
	}
	if h.HotAfter <= hotAfterStart {
		t.Errorf("hotAfter %d after %d phases that served nothing, want more than %d", h.HotAfter, h.Phases, hotAfterStart)
	}
}
