package host_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/host"
)

// createdObserver counts the sandboxes a runtime creates and signals each.
type createdObserver struct {
	mu      sync.Mutex
	created int
	signal  chan struct{}
}

func (o *createdObserver) SandboxCreated(*host.Module) {
	o.mu.Lock()
	o.created++
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

func (o *createdObserver) SandboxClosed(*host.Module) {}
func (o *createdObserver) CallStarted(ctx context.Context, _ *host.Module, _ string) context.Context {
	return ctx
}
func (o *createdObserver) CallEnded(context.Context, *host.Module, string, time.Duration, error) {}
func (o *createdObserver) HostCall(context.Context, string, string, time.Duration, error)        {}

func (o *createdObserver) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.created
}

// TestSpareSandboxes: with SpareSandboxes, NewSandbox hands out sandboxes made in the
// background, each on fresh state of its own, and replaces each one taken; closing the module
// with makings in flight closes everything (no leak, no hang), and NewSandbox then fails.
func TestSpareSandboxes(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		obs := &createdObserver{signal: make(chan struct{}, 16)}
		rt := newRuntime(t, host.Config{Engine: e, SpareSandboxes: 2, Observer: obs})
		mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
		require.NoError(t, err)
		first, err := mod.NewSandbox(ctx) // the module's own first sandbox; spares start now
		require.NoError(t, err)
		defer first.Close(ctx)
		waitCreated(t, obs, 3) // the first and two spares, made without anyone asking
		var sbs []*host.Sandbox
		for range 5 {
			sb, err := mod.NewSandbox(ctx)
			require.NoError(t, err)
			sbs = append(sbs, sb)
			res, err := sb.Call(ctx, "incr")
			require.NoError(t, err)
			require.Equal(t, []uint64{1001}, res, "a spare starts on fresh state")
		}
		res, err := first.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{1001}, res)
		for _, sb := range sbs {
			sb.Close(ctx)
		}
		require.NoError(t, mod.Close(ctx))
		_, err = mod.NewSandbox(ctx)
		require.ErrorIs(t, err, host.ErrClosed)
		require.GreaterOrEqual(t, obs.count(), 6)
	})
}

// TestNoSpareSandboxesByDefault: without SpareSandboxes nothing is made in the background
// (and a negative value means none).
func TestNoSpareSandboxesByDefault(t *testing.T) {
	for _, n := range []int{0, -1} {
		ctx := context.Background()
		obs := &createdObserver{signal: make(chan struct{}, 16)}
		rt := newRuntime(t, host.Config{Engine: host.EngineWazero, SpareSandboxes: n, Observer: obs})
		mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
		require.NoError(t, err)
		for range 3 {
			sb, err := mod.NewSandbox(ctx)
			require.NoError(t, err)
			sb.Close(ctx)
		}
		require.NoError(t, mod.Close(ctx)) // waits for any making in flight
		require.Equal(t, 3, obs.count(), "one sandbox per NewSandbox, none ahead")
	}
}

func waitCreated(t *testing.T, o *createdObserver, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second) // a hang guard, not a timing assertion
	for o.count() < n {
		select {
		case <-o.signal:
		case <-deadline:
			t.Fatalf("%d sandboxes created, want %d", o.count(), n)
		}
	}
}
