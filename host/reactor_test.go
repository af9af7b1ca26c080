package host_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/stretchr/testify/require"
)

// A Go -buildmode=c-shared reactor: _initialize runs before the snapshot, so fresh-state calls
// start initialized, and a long-lived sandbox keeps its Go heap between calls.
func TestGoReactor(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		var out bytes.Buffer
		rt := newRuntime(t, host.Config{Engine: e, PoolSize: 1, WASI: &wasi.Config{Stdout: &out}})
		mod, err := rt.LoadModule(ctx, fixture(t, "wasi/reactor-go.wasm"))
		require.NoError(t, err)
		defer mod.Close(ctx)
		for i := 0; i < 3; i++ {
			r, err := mod.Call(ctx, "add", 2, 3)
			require.NoError(t, err)
			require.Equal(t, []uint64{5}, r)
			r, err = mod.Call(ctx, "calls")
			require.NoError(t, err)
			require.Equal(t, []uint64{0}, r, "fresh state: no earlier add is visible")
		}
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		defer sb.Close(ctx)
		for i := uint64(1); i <= 3; i++ {
			_, err := sb.Call(ctx, "add", 1, 1)
			require.NoError(t, err)
			r, err := sb.Call(ctx, "calls")
			require.NoError(t, err)
			require.Equal(t, []uint64{i}, r)
		}
		r, err := sb.Call(ctx, "shout", 2)
		require.NoError(t, err)
		require.Equal(t, []uint64{8}, r)
		require.Contains(t, out.String(), "hey hey\n")
	})
}
