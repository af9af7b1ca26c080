package wasi_test

import (
	"context"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/stretchr/testify/require"
)

// TestWithArgs: a context's arguments replace the Config's for the calls made with it.
func TestWithArgs(t *testing.T) {
	in, err := wasi.NewInstance(wasi.Config{Args: []string{"config", "args"}})
	require.NoError(t, err)
	fns := map[string]api.HostFunction{}
	for _, f := range in.Functions() {
		fns[f.Name] = f
	}
	require.Equal(t, []string{"config", "args"}, strs(t, fns, "args", context.Background()))
	ctx := wasi.WithArgs(context.Background(), []string{"prog", "per call", "x\x00cut"})
	require.Equal(t, []string{"prog", "per call", "x"}, strs(t, fns, "args", ctx))
	require.Empty(t, strs(t, fns, "args", wasi.WithArgs(context.Background(), nil)))
}

// TestWithEnv: a context's environment replaces the Config's; malformed entries are dropped.
func TestWithEnv(t *testing.T) {
	in, err := wasi.NewInstance(wasi.Config{Env: []string{"A=config"}})
	require.NoError(t, err)
	fns := map[string]api.HostFunction{}
	for _, f := range in.Functions() {
		fns[f.Name] = f
	}
	require.Equal(t, []string{"A=config"}, strs(t, fns, "environ", context.Background()))
	ctx := wasi.WithEnv(context.Background(), []string{"A=call", "B=", "noequals", "=x", "C=\x00"})
	require.Equal(t, []string{"A=call", "B="}, strs(t, fns, "environ", ctx))
	require.Empty(t, strs(t, fns, "environ", wasi.WithEnv(context.Background(), nil)))
	// Arguments are not affected.
	require.Empty(t, strs(t, fns, "args", ctx))
}

// strs reads the strings args_get or environ_get (kind "args" or "environ") return.
func strs(t *testing.T, fns map[string]api.HostFunction, kind string, ctx context.Context) []string {
	t.Helper()
	mem := make(api.ByteMemory, 1<<16)
	stack := []uint64{0, 4}
	require.NoError(t, fns[kind+"_sizes_get"].Fn(ctx, mem, stack))
	require.Equal(t, wasi.ErrnoSuccess, wasi.Errno(stack[0]))
	n, _ := mem.ReadUint32Le(0)
	stack = []uint64{100, 200}
	require.NoError(t, fns[kind+"_get"].Fn(ctx, mem, stack))
	require.Equal(t, wasi.ErrnoSuccess, wasi.Errno(stack[0]))
	var out []string
	for i := range n {
		p, _ := mem.ReadUint32Le(100 + 4*i)
		end := p
		for mem[end] != 0 {
			end++
		}
		out = append(out, string(mem[p:end]))
	}
	return out
}
