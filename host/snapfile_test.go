package host_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

func TestSnapshotFile(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{PoolSize: 2})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	path := filepath.Join(t.TempDir(), "fresh.snap")
	require.NoError(t, mod.SaveSnapshot(ctx, path))

	loaded, err := rt.LoadSnapshot(ctx, path)
	require.NoError(t, err)
	defer loaded.Close(ctx)
	for i := 0; i < 50; i++ {
		r, err := loaded.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, uint64(1001), r[0])
	}
	sb, err := loaded.NewSandbox(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for want := uint64(1001); want <= 2002; want += 1001 {
		r, err := sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, want, r[0])
	}

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad.snap")
	require.NoError(t, os.WriteFile(bad, b[:len(b)-100], 0o644))
	_, err = rt.LoadSnapshot(ctx, bad)
	require.ErrorIs(t, err, host.ErrSnapshotCorrupt)
}

func rssBytes(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// Density: many live sandboxes of a small module started from one snapshot file share its
// pages. The goal is 1,000 sandboxes within 2 GiB RSS; the test checks 1,000 (200
// with -short) and logs the figure.
func TestDensity(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	ctx := context.Background()
	rt := newRuntime(t, host.Config{})
	mod, err := rt.LoadModule(ctx, fixture(t, "arith.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	path := filepath.Join(t.TempDir(), "arith.snap")
	require.NoError(t, mod.SaveSnapshot(ctx, path))
	loaded, err := rt.LoadSnapshot(ctx, path)
	require.NoError(t, err)
	defer loaded.Close(ctx)
	runtime.GC()
	before := rssBytes(t)
	sbs := make([]*host.Sandbox, 0, n)
	defer func() {
		for _, sb := range sbs {
			sb.Close(ctx)
		}
	}()
	for i := 0; i < n; i++ {
		sb, err := loaded.NewSandbox(ctx)
		require.NoError(t, err, "sandbox %d", i)
		r, err := sb.Call(ctx, "i32_add", uint64(i), 1)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), r[0])
		sbs = append(sbs, sb)
	}
	runtime.GC()
	after := rssBytes(t)
	per := (after - before) / int64(n)
	t.Logf("%d live sandboxes: RSS %d MiB → %d MiB (%d KiB each)", n, before>>20, after>>20, per>>10)
	require.Less(t, after-before, int64(2)<<30*int64(n)/1000, "goal: 1,000 sandboxes within 2 GiB")
}

// A sandbox made from a snapshot file outlives its module: Module.Close must not unmap the
// page data the sandbox's Reset still reads.
func TestSnapshotSandboxOutlivesModule(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{PoolSize: 1})
	mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "fresh.snap")
	require.NoError(t, mod.SaveSnapshot(ctx, path))
	require.NoError(t, mod.Close(ctx))

	loaded, err := rt.LoadSnapshot(ctx, path)
	require.NoError(t, err)
	sb, err := loaded.NewSandbox(ctx)
	require.NoError(t, err)
	require.NoError(t, loaded.Close(ctx))
	r, err := sb.Call(ctx, "incr")
	require.NoError(t, err)
	require.Equal(t, uint64(1001), r[0])
	require.NoError(t, sb.Reset(ctx))
	r, err = sb.Call(ctx, "incr")
	require.NoError(t, err)
	require.Equal(t, uint64(1001), r[0])
	require.NoError(t, sb.Close(ctx))
	_, err = loaded.NewSandbox(ctx)
	require.ErrorIs(t, err, host.ErrClosed)
}

func TestSnapshotFileKey(t *testing.T) {
	ctx := context.Background()
	keyed := newRuntime(t, host.Config{PoolSize: 1, SnapshotKey: []byte("k1")})
	mod, err := keyed.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	dir := t.TempDir()
	path := filepath.Join(dir, "keyed.snap")
	require.NoError(t, mod.SaveSnapshot(ctx, path))
	loaded, err := keyed.LoadSnapshot(ctx, path)
	require.NoError(t, err)
	r, err := loaded.Call(ctx, "incr")
	require.NoError(t, err)
	require.Equal(t, uint64(1001), r[0])
	require.NoError(t, loaded.Close(ctx))

	other := newRuntime(t, host.Config{PoolSize: 1, SnapshotKey: []byte("k2")})
	_, err = other.LoadSnapshot(ctx, path)
	require.ErrorIs(t, err, host.ErrSnapshotUnauthenticated)

	plain := newRuntime(t, host.Config{PoolSize: 1})
	pm, err := plain.LoadSnapshot(ctx, path) // checksummed as any file
	require.NoError(t, err)
	require.NoError(t, pm.Close(ctx))
	mod2, err := plain.LoadModule(ctx, fixture(t, "fresh.wasm"))
	require.NoError(t, err)
	defer mod2.Close(ctx)
	unkeyed := filepath.Join(dir, "unkeyed.snap")
	require.NoError(t, mod2.SaveSnapshot(ctx, unkeyed))
	_, err = keyed.LoadSnapshot(ctx, unkeyed)
	require.ErrorIs(t, err, host.ErrSnapshotUnauthenticated)
}
