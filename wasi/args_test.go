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
	mem := make(api.ByteMemory, 1<<16)
	args := func(ctx context.Context) []string {
		stack := []uint64{0, 4}
		require.NoError(t, fns["args_sizes_get"].Fn(ctx, mem, stack))
		require.Equal(t, wasi.ErrnoSuccess, wasi.Errno(stack[0]))
		n, _ := mem.ReadUint32Le(0)
		stack = []uint64{100, 200}
		require.NoError(t, fns["args_get"].Fn(ctx, mem, stack))
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
	require.Equal(t, []string{"config", "args"}, args(context.Background()))
	ctx := wasi.WithArgs(context.Background(), []string{"prog", "per call", "x\x00cut"})
	require.Equal(t, []string{"prog", "per call", "x"}, args(ctx))
	require.Empty(t, args(wasi.WithArgs(context.Background(), nil)))
}
