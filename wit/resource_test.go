package wit_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

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
