package host_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/host"
)

// A module's sandboxes after the first start from its first sandbox's state, kept once in
// memory and shared copy-on-write (the first sandbox's own snapshot reads it there too); each
// still runs on fresh state, and Stats says so.
func TestSandboxesShareTheModuleSnapshot(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	var sbs []*host.Sandbox
	for i := 0; i < 4; i++ {
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		defer sb.Close(ctx)
		sbs = append(sbs, sb)
	}
	for i, sb := range sbs {
		st, err := sb.Stats()
		require.NoError(t, err)
		require.True(t, st.SnapshotShared, "sandbox %d: %+v", i, st)
		require.NotZero(t, st.SnapshotBytes)
		r, err := sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{1001}, r, "sandbox %d", i)
		_, err = sb.Call(ctx, "dirty_pages", 50)
		require.NoError(t, err)
		require.NoError(t, sb.Reset(ctx))
		st, err = sb.Stats()
		require.NoError(t, err)
		require.GreaterOrEqual(t, st.DirtiedPages, 50, "sandbox %d: %+v", i, st)
		r, err = sb.Call(ctx, "peek")
		require.NoError(t, err)
		require.Equal(t, []uint64{0}, r, "sandbox %d after reset", i)
	}
	// Stats after Close is an error, not a crash.
	closed, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	require.NoError(t, closed.Close(ctx))
	_, err = closed.Stats()
	require.ErrorIs(t, err, host.ErrClosed)
	// Sandboxes outlive the module that made them (the shared snapshot is reference counted).
	require.NoError(t, mod.Close(ctx))
	for _, sb := range sbs[1:] {
		require.NoError(t, sb.Reset(ctx))
		r, err := sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{1001}, r)
	}
}

// MaxSandboxMemory bounds what one sandbox may reach, linear memory and engine data alike.
func TestMaxSandboxMemory(t *testing.T) {
	ctx := context.Background()
	// The transfer window (MaxModuleBytes, 2 MiB here) and the fixed layout come first; then
	// room for the engine's heap but not for 300 × 64 KiB of linear memory.
	rt := newRuntime(t, host.Config{MaxModuleBytes: 1 << 20, MaxSandboxMemory: 16 << 20})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	r, err := mod.Call(ctx, "dirty_pages", 4)
	require.NoError(t, err)
	require.Equal(t, []uint64{4}, r)
	_, err = mod.Call(ctx, "dirty_pages", 300)
	require.ErrorIs(t, err, host.ErrLimit)
	require.ErrorContains(t, err, "MaxSandboxMemory")
	r, err = mod.Call(ctx, "incr") // the pool replaced the sandbox that failed
	require.NoError(t, err)
	require.Equal(t, []uint64{1001}, r)

	// A budget below what the layout itself needs is refused when a sandbox is made, naming it.
	tiny := newRuntime(t, host.Config{MaxSandboxMemory: 1 << 20})
	_, err = tiny.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.ErrorIs(t, err, host.ErrLimit)
	require.ErrorContains(t, err, "memory budget")
}

// TestWithSandbox: the calls f makes share one sandbox; every WithSandbox starts fresh; f's
// error is returned; a closed module refuses it and Call with ErrClosed.
func TestWithSandbox(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{PoolSize: 2})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, mod.WithSandbox(ctx, "incr", func(ctx context.Context, sb *host.Sandbox) error {
			for i := uint64(1); i <= 3; i++ { // incr counts in a global (×1000) and in memory
				r, err := sb.Call(ctx, "incr")
				require.NoError(t, err)
				require.Equal(t, []uint64{i*1000 + i}, r)
			}
			return nil
		}))
	}
	boom := errors.New("boom")
	require.ErrorIs(t, mod.WithSandbox(ctx, "incr", func(context.Context, *host.Sandbox) error { return boom }), boom)
	require.NoError(t, mod.Close(ctx))
	require.ErrorIs(t, mod.WithSandbox(ctx, "incr", func(context.Context, *host.Sandbox) error { return nil }), host.ErrClosed)
	_, err = mod.Call(ctx, "incr") // was "snapshot file is closed", wrapping no sentinel
	require.ErrorIs(t, err, host.ErrClosed)
}

// TestWithSandboxDeadline: a deadline that fires while f's call runs ends that call with
// ErrDeadline and every later call of f; the sandbox goes back to the pool reset and the next
// WithSandbox gets a working one.
func TestWithSandboxDeadline(t *testing.T) {
	rt := newRuntime(t, host.Config{PoolSize: 1})
	mod, err := rt.LoadModule(context.Background(), fixture(t, "traps.wasm"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var after error
	err = mod.WithSandbox(ctx, "spin", func(ctx context.Context, sb *host.Sandbox) error {
		r, err := sb.Call(ctx, "indirect_ok", 4) // $dec(4)
		require.NoError(t, err)
		require.Equal(t, []uint64{3}, r)
		_, err = sb.Call(ctx, "spin")
		_, after = sb.Call(ctx, "indirect_ok", 1)
		return err
	})
	require.ErrorIs(t, err, host.ErrDeadline)
	require.ErrorIs(t, after, host.ErrDeadline, "the request's deadline has passed")
	for range 2 { // the one pooled sandbox, reset
		require.NoError(t, mod.WithSandbox(context.Background(), "size", func(ctx context.Context, sb *host.Sandbox) error {
			r, err := sb.Call(ctx, "size")
			require.NoError(t, err)
			require.Equal(t, []uint64{1}, r)
			return nil
		}))
	}
}

// TestWithSandboxLease: the sandbox WithSandbox lends works only until f returns. A handle f
// keeps fails with ErrClosed (calls, resets, memory) and cannot be closed; its State is its
// own, never the next user's; a call through it still running on a goroutine f started ends
// before the sandbox is reset for the next user.
func TestWithSandboxLease(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		rt := newRuntime(t, host.Config{PoolSize: 1, Engine: e})
		mod, err := rt.LoadModule(ctx, fixture(t, "traps.wasm"))
		require.NoError(t, err)
		type key struct{}
		var kept *host.Sandbox
		spun := make(chan error, 1)
		require.NoError(t, mod.WithSandbox(ctx, "lease", func(ctx context.Context, sb *host.Sandbox) error {
			kept = sb
			sb.State().Value(key{}, func() any { return "first user's" })
			require.ErrorIs(t, sb.Close(ctx), host.ErrArguments)
			started := make(chan struct{})
			go func() {
				sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				close(started)
				_, err := sb.Call(sctx, "spin")
				spun <- err
			}()
			<-started
			return nil
		}))
		err = <-spun
		if !errors.Is(err, host.ErrClosed) { // the goroutine may have started its call after f returned
			require.ErrorIs(t, err, host.ErrDeadline)
		}
		_, err = kept.Call(ctx, "size")
		require.ErrorIs(t, err, host.ErrClosed)
		require.ErrorIs(t, kept.Reset(ctx), host.ErrClosed)
		require.Nil(t, kept.Memory())
		require.NoError(t, mod.WithSandbox(ctx, "lease", func(ctx context.Context, sb *host.Sandbox) error {
			require.Nil(t, sb.State().Value(key{}, func() any { return nil }), "the first user's state")
			r, err := sb.Call(ctx, "size")
			require.NoError(t, err)
			require.Equal(t, []uint64{1}, r)
			return nil
		}))
	})
}

// TestNoSnapshot: with Config.NoSnapshot nothing is snapshotted; sandboxes run once, cannot be
// reset or saved (ErrNoSnapshot, the sandbox and its state left as they are), and Module.Call
// still gives every call fresh state, each on a new sandbox.
func TestNoSnapshot(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{NoSnapshot: true})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	for range 2 { // the module's first sandbox, then one booted anew
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		r, err := sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{1001}, r)
		require.ErrorIs(t, sb.Reset(ctx), host.ErrNoSnapshot)
		r, err = sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{2002}, r, "a refused reset leaves the sandbox as it was")
		st, err := sb.Stats()
		require.NoError(t, err)
		require.Zero(t, st.SnapshotBytes)
		require.NoError(t, sb.Close(ctx))
	}
	for range 3 {
		r, err := mod.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, []uint64{1001}, r)
	}
	require.ErrorIs(t, mod.SaveSnapshot(ctx, filepath.Join(t.TempDir(), "x.snap")), host.ErrNoSnapshot)
}

// With Config.NoSnapshot every sandbox boots, loads and instantiates anew, on the call's path
// for Module.Call: a deadline that fires anywhere in that (swept from far too short to long
// enough) ends the call with ErrDeadline — which is context.DeadlineExceeded too — or lets it
// succeed with fresh state, never anything else; the module keeps serving; and after Close
// the module and its sandboxes refuse with ErrClosed.
func TestNoSnapshotDeadlinesAndClose(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{NoSnapshot: true, PoolSize: 2})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	var ok, late int
	for d := 50 * time.Microsecond; d < 200*time.Millisecond; d = d * 3 / 2 {
		dctx, cancel := context.WithTimeout(ctx, d)
		var r []uint64
		within(t, "Module.Call under a deadline", func() { r, err = mod.Call(dctx, "incr") })
		cancel()
		switch {
		case err == nil:
			ok++
			require.Equal(t, []uint64{1001}, r, "deadline %v", d)
		case errors.Is(err, host.ErrDeadline):
			late++
			require.ErrorIs(t, err, context.DeadlineExceeded)
		default:
			t.Fatalf("deadline %v: %v", d, err)
		}
	}
	t.Logf("%d calls made it, %d ended at their deadline", ok, late)
	require.Positive(t, late, "no deadline fired")
	require.Positive(t, ok, "no call made it")
	r, err := mod.Call(ctx, "incr")
	require.NoError(t, err)
	require.Equal(t, []uint64{1001}, r)

	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	require.NoError(t, mod.Close(ctx))
	_, err = mod.Call(ctx, "incr")
	require.ErrorIs(t, err, host.ErrClosed)
	_, err = mod.NewSandbox(ctx)
	require.ErrorIs(t, err, host.ErrClosed)
	require.NoError(t, sb.Close(ctx))
	_, err = sb.Call(ctx, "incr")
	require.ErrorIs(t, err, host.ErrClosed)
	require.ErrorIs(t, sb.Reset(ctx), host.ErrClosed)
}
