package components_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// TestReactor: a library component of several core modules (a WASI preview1 reactor with
// jco's reactor adapter) is called with WIT values: its WASI 0.2 imports (stdout, environment)
// are served, its own import by the host's implementation, the resource it exports works
// (constructor, method, drop with its destructor, resource.new/rep/drop from the guest), each
// sandbox starts fresh, a trap is a trap, and an import left unimplemented is refused at load
// naming it.
func TestReactor(t *testing.T) {
	requireKVM(t)
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join("..", "tests", "testdata", "wasi", "p2reactor.component.wasm"))
	require.NoError(t, err)
	_, err = components.Decode(b, "")
	require.ErrorIs(t, err, components.ErrUnsupported, "not a single-module component")
	rt, err := host.NewRuntime(ctx, host.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close(ctx) })

	_, err = components.LoadReactor(ctx, rt, b, wasi.Config{}, nil)
	require.ErrorIs(t, err, wit.ErrUnbound)
	require.ErrorContains(t, err, "note")

	var out bytes.Buffer
	var notes []string
	imports := map[string]any{"note": func(msg string) uint32 { notes = append(notes, msg); return 42 }}
	r, err := components.LoadReactor(ctx, rt, b, wasi.Config{Env: []string{"FOO=bar"}, Stdout: &out}, imports)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(ctx) })
	w := r.World()
	sb, err := r.Module.NewSandbox(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { sb.Close(ctx) })

	call := func(fn string, args ...any) wit.Value {
		t.Helper()
		v, err := w.Call(ctx, sb, fn, args...)
		require.NoError(t, err, fn)
		return v
	}
	require.Equal(t, uint32(5), call("add", uint32(2), uint32(3)))
	require.Equal(t, "HELLO, WORLD", call("shout", "hello, world"))
	require.Equal(t, "shouting 12 bytes\n", out.String())
	for name, want := range map[string]string{`"FOO"`: `some("bar")`, `"NOPE"`: "none"} {
		got, err := w.CallWAVE(ctx, sb, "env", []string{name})
		require.NoError(t, err)
		require.Equal(t, want, got, name)
	}
	require.Equal(t, uint32(42), call("relay", "over"))
	require.Equal(t, []string{"over"}, notes)
	require.Equal(t, uint32(1), call("bump"))
	require.Equal(t, uint32(2), call("bump"))
	require.NoError(t, sb.Reset(ctx))
	require.Equal(t, uint32(1), call("bump"), "a reset sandbox starts from the snapshot")

	// The resource the component exports: handles in the sandbox's tables, the destructor
	// called in the core module through the linked parts.
	h, err := wit.Invoke[wit.Handle](ctx, w, sb, "store#[constructor]counter", uint32(5))
	require.NoError(t, err)
	require.Equal(t, uint32(12), call("store#[method]counter.add", h, uint32(7)))
	require.Equal(t, uint32(0), call("store#freed"))
	require.NoError(t, w.Drop(ctx, sb, "counter", h))
	require.Equal(t, uint32(1), call("store#freed"), "the destructor ran")
	require.ErrorIs(t, w.Drop(ctx, sb, "counter", h), wit.ErrBadHandle)
	require.Equal(t, uint32(9), call("store#roundtrip", uint32(9)), "resource.new, rep and drop from the guest")
	require.Equal(t, uint32(2), call("store#freed"))

	_, err = w.Call(ctx, sb, "boom")
	require.ErrorIs(t, err, host.ErrTrap)
	require.NoError(t, sb.Reset(ctx))
	require.Equal(t, uint32(5), call("add", uint32(2), uint32(3)), "usable after a trap and a reset")
}

// TestLoadComponentSingleModule: LoadComponent loads a single-module component as a linked
// set of one part, its own import bound from imports and its exported resource working.
func TestLoadComponentSingleModule(t *testing.T) {
	requireKVM(t)
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join("..", "tests", "testdata", "wit", "xres.component.wasm"))
	require.NoError(t, err)
	rt, err := host.NewRuntime(ctx, host.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close(ctx) })
	_, err = components.LoadComponent(ctx, rt, b, wasi.Config{}, nil)
	require.ErrorIs(t, err, wit.ErrUnbound, "added is not given")
	var added []uint32
	r, err := components.LoadComponent(ctx, rt, b, wasi.Config{}, map[string]any{"added": func(n uint32) { added = append(added, n) }})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(ctx) })
	w := r.World()
	sb, err := r.Module.NewSandbox(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { sb.Close(ctx) })
	h, err := wit.Invoke[wit.Handle](ctx, w, sb, "store#[constructor]counter", uint32(5))
	require.NoError(t, err)
	got, err := wit.Invoke[uint32](ctx, w, sb, "store#[method]counter.add", h, uint32(3))
	require.NoError(t, err)
	require.Equal(t, uint32(8), got)
	require.Equal(t, []uint32{3}, added)
	require.NoError(t, w.Drop(ctx, sb, "counter", h))
	freed, err := wit.Invoke[uint32](ctx, w, sb, "store#freed")
	require.NoError(t, err)
	require.Equal(t, uint32(1), freed)
}
