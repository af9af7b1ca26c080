package machine

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// A host function that ignores its context, on a call with a deadline, costs a handful of
// allocations per host call and no hand-off per host call: the whole rest of the request is
// served by the machine's server goroutine (one hand-off per request). Before, each such host
// call went to a worker goroutine of its own (a channel, a closure, a memory view, a caller
// and more per host call: 7-10 allocations).
func TestHostCallAllocations(t *testing.T) {
	k := requireKVM(t)
	var n atomic.Int64
	add := api.HostFunction{ModuleName: "env", Name: "add",
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			n.Add(1)
			stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
			return nil
		}}
	for _, c := range []struct {
		parked, deadline, honors bool
	}{{false, false, false}, {false, false, true}, {false, true, false}, {false, true, true}, {true, true, true}, {true, true, false}} {
		deadline, honors := c.deadline, c.honors
		{
			f := add
			f.HonorsContext = honors
			// A dedicated vCPU thread with a spinning guest: host calls are exit-less while both
			// cores are free, and an exit costs one allocation when they are not. Parked: a
			// caller-runs machine without hot phases, every host call an exit (its deadline
			// watched once per request, not per KVM_RUN).
			cfg := Config{KVM: k, Thread: vmm.ThreadDedicated, GuestSpin: time.Millisecond}
			if c.parked {
				cfg = Config{KVM: k, Thread: vmm.ThreadCaller, HostCallSpin: -1}
			}
			m, inst, _ := testMachine(t, cfg, f)
			ctx := context.Background()
			if deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Minute)
				defer cancel()
			}
			const loop, calls = 200, 5
			call := func() {
				if r, err := m.Call(ctx, inst, benchHostLoop, []uint64{loop}, 1); err != nil || r[0] != loop {
					t.Fatalf("host_loop(%d) = %v, %v", loop, r, err)
				}
			}
			call() // warm: the server goroutine, the hot phase
			n.Store(0)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range calls {
				call()
			}
			runtime.ReadMemStats(&after)
			if n.Load() != calls*loop {
				t.Fatalf("%d host calls, want %d", n.Load(), calls*loop)
			}
			allocs := float64(after.Mallocs-before.Mallocs) / calls // the whole process's: an upper bound
			per := allocs / loop
			t.Logf("parked %v, deadline %v, honors %v: %.0f allocations per call, %.2f per host call", c.parked, deadline, honors, allocs, per)
			// Each host call allocates its frame (memory view, caller and context included); an
			// exit of the dedicated thread, when the cores are busy, one more.
			if per > 2.5 {
				t.Errorf("parked %v, deadline %v, honors %v: %.2f allocations per host call, want at most 2.5", c.parked, deadline, honors, per)
			}
		}
	}
}

// A host function that ignores its context and blocks inside a nested call's host call (the
// server runs both) is given up at the deadline like one that blocks at the top: the call
// returns ErrDeadline while the function still blocks, and the machine is unusable.
func TestServerNestedBlockingDeadline(t *testing.T) {
	k := requireKVM(t)
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	var depth atomic.Int32
	var nestedErr atomic.Value
	add := api.HostFunction{ModuleName: "env", Name: "add",
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			if depth.Add(1) == 1 {
				// The outer host call calls host_loop(1) back, whose host call blocks.
				c, _ := api.CallerFromContext(ctx)
				_, err := c.Call(ctx, "host_loop", 1)
				nestedErr.Store(errBox{err})
				return err
			}
			entered <- struct{}{}
			<-release
			return nil
		}}
	exports := func(name string) (uint32, int, bool) {
		if name == "host_loop" {
			return benchHostLoop, 1, true
		}
		return 0, 0, false
	}
	for _, mode := range []vmm.ThreadMode{vmm.ThreadCaller, vmm.ThreadDedicated} {
		depth.Store(0)
		m, inst, _ := testMachine(t, Config{KVM: k, Thread: mode, Exports: exports}, add)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		done := make(chan error, 1)
		go func() {
			_, err := m.Call(ctx, inst, benchHostLoop, []uint64{1}, 1)
			done <- err
		}()
		<-entered
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%v: the call did not end at its deadline", mode)
		}
		cancel()
		if !errors.Is(err, ErrDeadline) {
			t.Fatalf("%v: call ended with %v, want ErrDeadline", mode, err)
		}
		if _, err := m.Call(context.Background(), inst, 0, []uint64{1, 2}, 1); !errors.Is(err, ErrUnusable) {
			t.Fatalf("%v: call after the deadline: %v, want ErrUnusable", mode, err)
		}
	}
}

type errBox struct{ error }

// The hot-phase threshold adapts down to one parked host call: after a phase that paid, a
// call's first parked host call goes hot (no second exit); a phase that did not pay doubles it.
func TestHotThresholdAdapts(t *testing.T) {
	m := &Machine{sync: true, cfg: Config{HostCallSpin: defaultHostCallSpin}, mb: make([]byte, 4096), hotAfter: hotAfterStart}
	for range 3 { // three phases that served plenty
		m.parkedHostCalls = 0
		for !m.hot {
			m.parkedHostCall()
		}
		m.hotServed = 100
		m.leaveHot()
	}
	if m.hotAfter != 1 {
		t.Fatalf("hotAfter %d after phases that paid, want 1", m.hotAfter)
	}
	m.parkedHostCalls = 0
	m.parkedHostCall()
	if !m.hot {
		t.Fatal("the first parked host call did not go hot")
	}
	m.hotServed = 0
	m.leaveHot()
	if m.hotAfter != 2 {
		t.Fatalf("hotAfter %d after a phase that served nothing, want 2", m.hotAfter)
	}
	// Per export: one whose phase paid starts hot next time, until a phase of it does not pay;
	// another export (in another slot) does not.
	one, other := exportKey(0, 3), exportKey(1, 3)
	phase := func(key uint64, served int) {
		m.callKey = key
		m.hot, m.hotServed = true, served
		m.leaveHot()
	}
	phase(one, 100)
	if m.callKey = one; !m.startsHot() {
		t.Fatal("an export whose phase paid does not start hot")
	}
	if m.callKey = other; m.startsHot() {
		t.Fatal("another export starts hot")
	}
	phase(one, 1)
	if m.callKey = one; m.startsHot() {
		t.Fatal("an export whose last phase served 1 host call starts hot")
	}
	m.callKey = 0
	if m.startsHot() {
		t.Fatal("a request that is not a call starts hot")
	}
}
