package host_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wit"
)

// Exported (guest-defined) resources through sandboxes, on both engines: the guest's
// resource.new/rep/drop are host functions with a handle table per sandbox; the host holds
// own handles a constructor returns, passes them and borrows of them back, drops them (the
// guest's destructor runs); a hostile guest's bad handles trap; Reset empties the tables.
func TestWITExportedResource(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		c, err := components.Decode(fixture(t, "wit/xres.component.wasm"), "")
		require.NoError(t, err)
		w := c.World
		require.Len(t, w.Resources, 1)
		require.Equal(t, "test:xres/store#counter", w.Resources[0].String())
		require.Contains(t, w.String(), "export resource test:xres/store#counter")
		// added runs during counter.add, while the host's handle is lent to the guest: it can
		// be neither dropped nor moved then
		var sum uint32
		var lent wit.Handle
		var lentErrs []error
		funcs, err := w.Bind(map[string]any{"added": func(ctx context.Context, n uint32) {
			sum += n
			if lent != 0 {
				cl, _ := api.CallerFromContext(ctx)
				lentErrs = append(lentErrs, w.Drop(ctx, cl, "counter", lent))
				_, err := w.Call(ctx, cl, "store#[method]counter.absorb", lent, lent)
				lentErrs = append(lentErrs, err)
			}
		}})
		require.NoError(t, err)
		require.Len(t, funcs, 4) // added and the three built-ins
		w.Options.MaxHandles = 100
		rt := newRuntime(t, host.Config{Engine: e, HostFunctions: funcs})
		sb := sandbox(t, rt, c.Core)
		call := func(name string, args ...any) (wit.Value, error) {
			return w.Call(ctx, sb, "store#"+name, args...)
		}
		u32 := func(name string, args ...any) uint32 {
			t.Helper()
			v, err := call(name, args...)
			require.NoError(t, err)
			return v.(uint32)
		}
		// fresh state: handles are numbered from 1 in each table
		require.Equal(t, uint32(7), u32("roundtrip", uint32(7))) // guest handle 1: new, rep, drop
		require.Equal(t, uint32(1), u32("freed"))

		v, err := call("[constructor]counter", uint32(5))
		require.NoError(t, err)
		a := v.(wit.Handle)
		require.Equal(t, uint32(8), u32("[method]counter.add", a, uint32(3)))
		b, err := wit.Invoke[wit.Handle](ctx, w, sb, "store#[static]counter.make", uint32(100))
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		require.Equal(t, uint32(108), u32("total", a, b))
		_, err = call("[method]counter.absorb", a, b) // b moves to the guest, which drops it
		require.NoError(t, err)
		require.Equal(t, uint32(108), u32("[method]counter.get", a))
		require.Equal(t, uint32(2), u32("freed"))
		lent = a
		require.Equal(t, uint32(110), u32("[method]counter.add", a, uint32(2)))
		require.Equal(t, uint32(5), sum)
		require.Len(t, lentErrs, 2)
		for _, err := range lentErrs {
			require.ErrorIs(t, err, wit.ErrBadHandle)
			require.Contains(t, err.Error(), "lent to a call in progress")
		}
		lent = 0
		require.Equal(t, uint32(111), u32("[method]counter.add", a, uint32(1))) // the lend ended

		// host mistakes: a moved handle, a dropped one, a handle of nothing
		_, err = call("[method]counter.get", b)
		require.ErrorIs(t, err, wit.ErrBadHandle)
		require.ErrorIs(t, err, wit.ErrType)
		_, err = call("[method]counter.get", wit.Handle(999))
		require.ErrorIs(t, err, wit.ErrBadHandle)
		require.NoError(t, w.Drop(ctx, sb, "counter", a))
		require.Equal(t, uint32(3), u32("freed"))
		err = w.Drop(ctx, sb, "counter", a)
		require.ErrorIs(t, err, wit.ErrBadHandle)
		_, err = call("[method]counter.add", a, uint32(1))
		require.ErrorIs(t, err, wit.ErrBadHandle)
		require.ErrorIs(t, w.Drop(ctx, sb, "nothing", a), wit.ErrNotFound)

		// hostile guest: resource.rep and resource.drop of handles it does not hold, returning
		// a forged one. A trap leaves the sandbox unusable until Reset, as any failed host
		// call; after Reset the guest's table starts again: roundtrip drops guest handle 1, the
		// constructor's handle 2 moves to the host.
		hostile := func(name string, h uint32, what string) {
			t.Helper()
			require.NoError(t, sb.Reset(ctx))
			require.Equal(t, uint32(7), u32("roundtrip", uint32(7)))
			_, err := call("[constructor]counter", uint32(1))
			require.NoError(t, err)
			_, err = call(name, h)
			require.ErrorIs(t, err, wit.ErrTrap, "%s %d", name, h)
			require.ErrorIs(t, err, wit.ErrBadHandle, "%s %d", name, h)
			require.Contains(t, err.Error(), what, "%s %d", name, h)
		}
		for _, h := range []uint32{1, 2, 0, 999, 0xffffffff} {
			hostile("rep-of", h, "[resource-rep]counter")
			hostile("drop-handle", h, "[resource-drop]counter")
		}
		for _, h := range []uint32{0, 1, 2, 77} {
			hostile("forge", h, "own<counter>")
		}
		// a guest making handles without end: its table is bounded
		require.NoError(t, sb.Reset(ctx))
		require.Equal(t, uint32(w.Options.MaxHandles), u32("flood", uint32(w.Options.MaxHandles)))
		require.NoError(t, sb.Reset(ctx))
		_, err = call("flood", uint32(w.Options.MaxHandles+1))
		require.ErrorIs(t, err, wit.ErrTrap)
		require.ErrorIs(t, err, wit.ErrLimit)
		require.Contains(t, err.Error(), "handle table full")
		require.NoError(t, sb.Reset(ctx))
		require.Equal(t, uint32(0), u32("freed"))

		// a held handle does not survive Reset: the tables are emptied with the sandbox
		h, err := wit.Invoke[wit.Handle](ctx, w, sb, "store#[constructor]counter", uint32(1))
		require.NoError(t, err)
		require.NoError(t, sb.Reset(ctx))
		_, err = call("[method]counter.get", h)
		require.ErrorIs(t, err, wit.ErrBadHandle)

		// each sandbox has its own tables
		sb2, err := sb.Module().NewSandbox(ctx)
		require.NoError(t, err)
		defer sb2.Close(ctx)
		h1, err := wit.Invoke[wit.Handle](ctx, w, sb, "store#[constructor]counter", uint32(1))
		require.NoError(t, err)
		h2, err := wit.Invoke[wit.Handle](ctx, w, sb2, "store#[constructor]counter", uint32(2))
		require.NoError(t, err)
		r1, err := wit.Invoke[uint32](ctx, w, sb, "store#[method]counter.get", h1)
		require.NoError(t, err)
		r2, err := wit.Invoke[uint32](ctx, w, sb2, "store#[method]counter.get", h2)
		require.NoError(t, err)
		require.Equal(t, []uint32{1, 2}, []uint32{r1, r2})
		require.NoError(t, w.Drop(ctx, sb2, "counter", h2))
		require.ErrorIs(t, w.Drop(ctx, sb2, "counter", h2), wit.ErrBadHandle)
		require.NoError(t, w.Drop(ctx, sb, "counter", h1))
	})
}
