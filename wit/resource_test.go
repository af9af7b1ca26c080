package wit_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wit"
)

// Imported (host-defined) resources: handles are plain numbers the host hands out; the
// guest drops them through the [resource-drop] import the world gets for each resource.
func TestImportedResource(t *testing.T) {
	w, err := wit.LoadFile(testdata+"res.wit", "")
	require.NoError(t, err)
	table := map[wit.Handle]*uint32{}
	next := wit.Handle(1)
	newCounter := func(start uint32) wit.Handle {
		v := start
		table[next] = &v
		next++
		return next - 1
	}
	var dropped []wit.Handle
	funcs, err := w.Bind(map[string]any{
		"store#[constructor]counter": newCounter,
		"store#[static]counter.make": func() wit.Handle { return newCounter(0) },
		"store#[method]counter.add": func(self wit.Handle, n uint32) uint32 {
			*table[self] += n
			return *table[self]
		},
		"store#total": func(c wit.Handle) uint32 { return *table[c] },
		"store#[resource-drop]counter": func(self wit.Handle) {
			dropped = append(dropped, self)
			delete(table, self)
		},
	})
	require.NoError(t, err)
	f, err := w.Func("test:res/store#[resource-drop]counter", false)
	require.NoError(t, err)
	require.Equal(t, "[resource-drop]counter: func(self: own<counter>)", f.String())
	wasm, err := os.ReadFile(testdata + "res.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	r, err := wit.Invoke[uint32](context.Background(), w, inst, "run")
	require.NoError(t, err)
	require.Equal(t, uint32(8100), r)
	require.Equal(t, []wit.Handle{1, 2}, dropped)
	require.Empty(t, table)
}

// statefulInst is a guest with host-side state, as host.Sandbox keeps: its calls carry it.
type statefulInst struct {
	*wzInst
	st api.State
}

func (i *statefulInst) State() *api.State { return &i.st }
func (i *statefulInst) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	return i.wzInst.Call(api.WithState(ctx, &i.st), name, params...)
}

// Exported (guest-defined) resources need per-instance state: without it they are refused
// clearly; with it any engine works (host/wit_resource_test.go covers sandboxes in depth).
func TestExportedResource(t *testing.T) {
	ctx := context.Background()
	w, err := wit.LoadFile(testdata+"xres.wit", "")
	require.NoError(t, err)
	require.Len(t, w.Resources, 1)
	for _, name := range []string{"counter", "store#counter", "test:xres/store#counter"} {
		r, err := w.Resource(name)
		require.NoError(t, err, name)
		require.Equal(t, "[export]test:xres/store", r.Module)
		require.Equal(t, "test:xres/store#[dtor]counter", r.Dtor)
	}
	_, err = w.Resource("store#nothing")
	require.ErrorIs(t, err, wit.ErrNotFound)
	funcs, err := w.Bind(map[string]any{"added": func(uint32) {}})
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "xres.wasm")
	require.NoError(t, err)

	plain := instantiate(t, wasm, funcs)
	_, err = w.Call(ctx, plain, "store#[constructor]counter", uint32(1))
	require.ErrorIs(t, err, wit.ErrUnsupported)
	require.Contains(t, err.Error(), "host-side state")

	inst := &statefulInst{wzInst: instantiate(t, wasm, funcs)}
	h, err := wit.Invoke[wit.Handle](ctx, w, inst, "store#[constructor]counter", uint32(41))
	require.NoError(t, err)
	n, err := wit.Invoke[uint32](ctx, w, inst, "store#[method]counter.add", h, uint32(1))
	require.NoError(t, err)
	require.Equal(t, uint32(42), n)
	require.NoError(t, w.Drop(ctx, inst, "counter", h))
	require.Equal(t, "test:xres/store#[dtor]counter", inst.calls[len(inst.calls)-1])
	_, err = w.Call(ctx, inst, "store#[method]counter.add", h, uint32(1))
	require.ErrorIs(t, err, wit.ErrBadHandle)
	_, err = w.Call(ctx, inst, "store#[method]counter.add", "x", uint32(1))
	require.ErrorIs(t, err, wit.ErrType)
}
