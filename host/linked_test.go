package host_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
)

// linkedHost is host.peek(ptr): part 0's byte at ptr plus part 0's double(21), reached through
// the host.PartCaller.
type linkedHost struct {
	resets, closes *atomic.Int32   // counted from the pool's background resets too
	sig            []api.ValueType // the parameter types offered (to test a changing NewHost)
}

func (h linkedHost) Functions() []api.HostFunction {
	return []api.HostFunction{{ModuleName: "host", Name: "peek", ParamTypes: h.sig,
		ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			c, _ := api.CallerFromContext(ctx)
			pc, ok := c.(host.PartCaller)
			if !ok {
				return errors.New("no PartCaller")
			}
			mem, err := pc.PartMemory(ctx, 0)
			if err != nil {
				return err
			}
			b, ok := mem.Read(uint32(stack[0]), 1)
			if !ok {
				return errors.New("bad pointer")
			}
			res, err := pc.CallPart(ctx, 0, "double", 21)
			if err != nil {
				return err
			}
			if _, err := pc.CallPart(ctx, 0, "nope"); !errors.Is(err, host.ErrNoExport) {
				return errors.New("CallPart of a missing export did not fail")
			}
			if _, err := pc.PartMemory(ctx, 5); !errors.Is(err, host.ErrArguments) {
				return errors.New("PartMemory of a missing part did not fail")
			}
			stack[0] = uint64(b[0]) + res[0]
			return nil
		}}}
}
func (h linkedHost) Reset() error { h.resets.Add(1); return nil }
func (h linkedHost) Close() error { h.closes.Add(1); return nil }

func TestLoadLinked(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{PoolSize: 1})
	var resets, closes atomic.Int32
	i32 := []api.ValueType{api.ValueTypeI32}
	spec := host.Linked{
		Parts: []host.LinkedPart{{Name: "a", Wasm: fixture(t, "linked_a.wasm")}, {Name: "b", Wasm: fixture(t, "linked_b.wasm")}},
		Main:  1,
		NewHost: func() (host.LinkedHost, error) {
			return linkedHost{resets: &resets, closes: &closes, sig: i32}, nil
		},
	}
	mod, err := rt.LoadLinked(ctx, spec)
	require.NoError(t, err)
	for range 3 { // fresh state every call: A's counter is 1 each time
		res, err := mod.Call(ctx, "run")
		require.NoError(t, err)
		require.Equal(t, []uint64{1 + 'f' + 42}, res)
	}
	require.Positive(t, resets.Load())
	// the load's sandbox, then one started from the module's snapshot
	for range 2 {
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		res, err := sb.Call(ctx, "run")
		require.NoError(t, err)
		require.Equal(t, []uint64{1 + 'f' + 42}, res)
		res, err = sb.Call(ctx, "run")
		require.NoError(t, err)
		require.Equal(t, []uint64{2 + 'f' + 42}, res) // a sandbox keeps its state until Reset
		require.NoError(t, sb.Close(ctx))
	}
	require.NoError(t, mod.Close(ctx))
	require.Positive(t, closes.Load())

	// refused: a part naming a later one, an import the host does not offer, a changing host
	bad := spec
	bad.Parts = []host.LinkedPart{spec.Parts[1], spec.Parts[0]}
	bad.Parts[0].Name, bad.Parts[1].Name = "b", "a"
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorContains(t, err, "names a part instantiated later")
	bad = spec
	bad.NewHost = func() (host.LinkedHost, error) { return linkedHost{resets: &resets, closes: &closes}, nil }
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorContains(t, err, "the module expects")
	n := 0
	bad.NewHost = func() (host.LinkedHost, error) {
		n++
		if n > 1 {
			return linkedHost{resets: &resets, closes: &closes, sig: []api.ValueType{api.ValueTypeI64}}, nil
		}
		return linkedHost{resets: &resets, closes: &closes, sig: i32}, nil
	}
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorIs(t, err, host.ErrArguments)
	bad = spec
	bad.Main = 2
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorIs(t, err, host.ErrArguments)
	bad = spec
	bad.Parts = []host.LinkedPart{spec.Parts[0], {Name: "a", Wasm: spec.Parts[1].Wasm}}
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorIs(t, err, host.ErrArguments)
	bad = spec
	bad.Parts = []host.LinkedPart{spec.Parts[0], {Name: "b", Wasm: []byte("\x00asm\x01\x00\x00\x00\xff")}}
	_, err = rt.LoadLinked(ctx, bad)
	require.ErrorIs(t, err, host.ErrInvalidModule)

	wz := newRuntime(t, host.Config{Engine: host.EngineWazero})
	_, err = wz.LoadLinked(ctx, spec)
	require.ErrorIs(t, err, host.ErrUnsupportedEngine)
}
