package host_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// recObserver records what a Runtime reports.
type recObserver struct {
	mu                   sync.Mutex
	started, ended       []string
	errs                 []error
	hostCalls            map[string]int
	hostSawCallCtx       bool
	created, closed      int
	durationsArePositive bool
}

func (o *recObserver) CallStarted(ctx context.Context, m *host.Module, export string) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started = append(o.started, export)
	return context.WithValue(ctx, ctxKey{}, export)
}

func (o *recObserver) CallEnded(ctx context.Context, m *host.Module, export string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = append(o.ended, export)
	o.errs = append(o.errs, err)
	o.durationsArePositive = d > 0 && ctx.Value(ctxKey{}) == export
}

func (o *recObserver) HostCall(ctx context.Context, module, name string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hostCalls[module+"."+name]++
	o.hostSawCallCtx = ctx.Value(ctxKey{}) != nil
}

func (o *recObserver) SandboxCreated(*host.Module) { o.mu.Lock(); o.created++; o.mu.Unlock() }
func (o *recObserver) SandboxClosed(*host.Module)  { o.mu.Lock(); o.closed++; o.mu.Unlock() }

func TestObserver(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		o := &recObserver{hostCalls: map[string]int{}}
		rt, _ := hostcallRuntime(t, host.Config{Engine: e, Observer: o})
		mod, err := rt.LoadModule(ctx, fixture(t, "hostcall.wasm"))
		require.NoError(t, err)
		r, err := mod.Call(ctx, "add_loop", 10) // pooled: one CallStarted/Ended, not two
		require.NoError(t, err)
		require.Equal(t, []uint64{10}, r)
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		_, err = sb.Call(ctx, "call_fail")
		require.Error(t, err)
		require.NoError(t, sb.Close(ctx))
		require.NoError(t, sb.Close(ctx)) // closed once
		require.NoError(t, mod.Close(ctx))

		o.mu.Lock()
		defer o.mu.Unlock()
		require.Equal(t, []string{"add_loop", "call_fail"}, o.started)
		require.Equal(t, o.started, o.ended)
		require.NoError(t, o.errs[0])
		require.True(t, errors.Is(o.errs[1], errFail), "%v", o.errs[1])
		require.True(t, o.durationsArePositive)
		require.Equal(t, 10, o.hostCalls["env.add"])
		require.Equal(t, 1, o.hostCalls["env.fail"])
		require.True(t, o.hostSawCallCtx, "host functions get the context CallStarted returned")
		require.Positive(t, o.created)
		require.Equal(t, o.created, o.closed, "every sandbox reported closed once")
	})
}

// vmObserver is a recObserver that also takes the VM events (host.VMObserver).
type vmObserver struct {
	recObserver
	exits      map[string]uint64
	resets     int
	resetPages int
	resetErrs  []error
	resetTimed bool
}

func (o *vmObserver) VMExits(ctx context.Context, m *host.Module, export string, n uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.exits[export] += n
}

func (o *vmObserver) SandboxReset(m *host.Module, d time.Duration, pages int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.resets++
	o.resetPages += pages
	o.resetTimed = d > 0
	if err != nil {
		o.resetErrs = append(o.resetErrs, err)
	}
}

// An Observer that is a VMObserver too gets each call's VM exits (which add up to the
// sandbox's VMExits) and each reset; the module reports its snapshot and pooled sandboxes.
func TestVMObserver(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		o := &vmObserver{recObserver: recObserver{hostCalls: map[string]int{}}, exits: map[string]uint64{}}
		rt, _ := hostcallRuntime(t, host.Config{Engine: e, Observer: o, HostCallSpin: -1})
		mod, err := rt.LoadModule(ctx, fixture(t, "hostcall.wasm"))
		require.NoError(t, err)
		defer mod.Close(ctx)
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		st0, err := sb.Stats()
		require.NoError(t, err)
		_, err = sb.Call(ctx, "add_loop", 10) // hot phases off: one exit per host call, one for the reply
		require.NoError(t, err)
		st1, err := sb.Stats()
		require.NoError(t, err)
		require.NoError(t, sb.Reset(ctx))
		require.NoError(t, sb.Close(ctx))
		for range 3 {
			_, err := mod.Call(ctx, "add_loop", 2)
			require.NoError(t, err)
		}
		deadline := time.Now().Add(10 * time.Second) // the pooled resets run in the background
		for mod.PooledSandboxes() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		require.Positive(t, mod.PooledSandboxes())
		snapBytes := mod.SnapshotBytes()
		require.NoError(t, mod.Close(ctx)) // after Close: nothing pooled, no snapshot
		require.Zero(t, mod.PooledSandboxes())
		require.Zero(t, mod.SnapshotBytes())

		o.mu.Lock()
		defer o.mu.Unlock()
		require.Empty(t, o.resetErrs)
		if e == host.EngineWazero {
			require.Zero(t, o.exits["add_loop"])
			require.Zero(t, mod.SnapshotBytes())
		} else {
			require.Equal(t, st1.VMExits-st0.VMExits, uint64(11), "sandbox's VMExits over a call of add_loop(10)")
			require.GreaterOrEqual(t, o.exits["add_loop"], uint64(11+3*3), "exits reported for the calls")
			require.Positive(t, snapBytes)
			require.Positive(t, o.resetPages, "a reset after add_loop restored nothing")
		}
		require.GreaterOrEqual(t, o.resets, 2, "Sandbox.Reset and a pooled sandbox's reset")
		require.True(t, o.resetTimed)
	})
}
