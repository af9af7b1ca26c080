package host_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
	wapi "github.com/tetratelabs/wazero/api"
)

// The same host code compiles against wazero's memory and hlwasm's.
var (
	_ memoryUser = wapi.Memory(nil)
	_ memoryUser = api.Memory(nil)
)

// ImportedFunctions lists the imports as wazero's CompiledModule.ImportedFunctions does.
func TestImportedFunctions(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		rt, _ := hostcallRuntime(t, host.Config{Engine: e})
		mod, err := rt.LoadModule(context.Background(), fixture(t, "hostcall.wasm"))
		require.NoError(t, err)
		defer mod.Close(context.Background())
		var got []string
		for _, f := range mod.ImportedFunctions() {
			m, n, ok := f.Import()
			require.True(t, ok)
			require.Equal(t, f.ModuleName, m)
			got = append(got, api.HostFunction{ModuleName: m, Name: n, ParamTypes: f.ParamTypes, ResultTypes: f.ResultTypes}.String())
		}
		require.Equal(t, []string{"env.add (i32, i32) -> (i32)", "env.fail () -> ()", "env.boom () -> ()",
			"hlwasm.log (i32, i32) -> ()"}, got)
		def, ok := mod.ExportedFunction("call_add")
		require.True(t, ok)
		_, _, isImport := def.Import()
		require.False(t, isImport)
	})
}

// ErrDeadline and ErrCanceled also match the context's errors.
func TestContextSentinels(t *testing.T) {
	require.ErrorIs(t, host.ErrDeadline, context.DeadlineExceeded)
	require.ErrorIs(t, host.ErrCanceled, context.Canceled)
	require.NotErrorIs(t, host.ErrDeadline, context.Canceled)
	require.NotErrorIs(t, host.ErrCanceled, context.DeadlineExceeded)
	require.NotErrorIs(t, host.ErrDeadline, host.ErrCanceled)
	engines(t, func(t *testing.T, e host.Engine) {
		rt := newRuntime(t, host.Config{Engine: e})
		sb := sandbox(t, rt, fixture(t, "traps.wasm"))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := sb.Call(ctx, "spin")
		cancel()
		require.ErrorIs(t, err, host.ErrDeadline)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, context.Canceled)
		sb = sandbox(t, rt, fixture(t, "traps.wasm"))
		ctx, cancel = context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, err = sb.Call(ctx, "spin")
		require.ErrorIs(t, err, host.ErrCanceled)
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, context.DeadlineExceeded)
	})
}

// memoryUser is host code written against wazero's method names.
type memoryUser interface {
	ReadUint32Le(offset uint32) (uint32, bool)
	WriteUint32Le(offset, v uint32) bool
	ReadFloat32Le(offset uint32) (float32, bool)
	WriteFloat32Le(offset uint32, v float32) bool
	ReadFloat64Le(offset uint32) (float64, bool)
	WriteFloat64Le(offset uint32, v float64) bool
	Read(offset, byteCount uint32) ([]byte, bool)
	Write(offset uint32, v []byte) bool
	WriteString(offset uint32, v string) bool
	Grow(deltaPages uint32) (previousPages uint32, ok bool)
}

func useMemory(m memoryUser) error {
	if !m.WriteFloat64Le(64, 2.5) || !m.WriteFloat32Le(72, -1.25) || !m.WriteString(80, "wazero") ||
		!m.WriteUint32Le(88, 7) || !m.Write(92, []byte{9}) {
		return errors.New("write failed")
	}
	f64, ok1 := m.ReadFloat64Le(64)
	f32, ok2 := m.ReadFloat32Le(72)
	s, ok3 := m.Read(80, 6)
	u, ok4 := m.ReadUint32Le(88)
	if !ok1 || !ok2 || !ok3 || !ok4 || f64 != 2.5 || f32 != -1.25 || string(s) != "wazero" || u != 7 {
		return errors.New("read back wrong")
	}
	if m.WriteString(65535, "xy") || m.WriteFloat64Le(65532, 1) {
		return errors.New("write past the end accepted")
	}
	if _, ok := m.ReadFloat32Le(65533); ok {
		return errors.New("read past the end accepted")
	}
	return nil
}

// api.Memory has wazero's method names: the same host code runs on both engines and on
// wazero's own memory type (the interface above is satisfied by both).
func TestMemoryWazeroNames(t *testing.T) {
	require.NoError(t, useMemory(make(api.ByteMemory, 65536)))
	engines(t, func(t *testing.T, e host.Engine) {
		add, err := api.Func("env", "add", func(m api.Memory, a, b int32) (int32, error) {
			if err := useMemory(m); err != nil {
				return 0, err
			}
			return a + b, nil
		})
		require.NoError(t, err)
		fail, _ := api.Func("env", "fail", func() {})
		boom, _ := api.Func("env", "boom", func() {})
		rt := newRuntime(t, host.Config{Engine: e, HostFunctions: []api.HostFunction{add, fail, boom}})
		sb := sandbox(t, rt, fixture(t, "hostcall.wasm"))
		r, err := sb.Call(context.Background(), "call_add", 2, 3)
		require.NoError(t, err)
		require.Equal(t, []uint64{5}, r)
		mem := sb.Memory()
		require.NotNil(t, mem)
		f, ok := mem.ReadFloat64Le(64)
		require.True(t, ok)
		require.Equal(t, 2.5, f)
	})
}

// growModule imports env.grow (i32) -> i32 and exports grow_then_load(delta, addr): the host
// grows its memory by delta, then it loads the byte at addr; size: memory.size; memory.
func growModule() []byte {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	body1 := []byte{0, 0x20, 0, 0x10, 0, 0x1a, 0x20, 1, 0x2d, 0, 0, 0x0b}
	body2 := []byte{0, 0x3f, 0, 0x0b}
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		sec(1, 3, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f),
		sec(2, cat([]byte{1}, str("env"), str("grow"), []byte{0, 0})...),
		sec(3, 2, 1, 2),
		sec(5, 1, 0, 1),
		sec(7, cat([]byte{3}, str("grow_then_load"), []byte{0, 1}, str("size"), []byte{0, 2}, str("memory"), []byte{2, 0})...),
		sec(10, cat([]byte{2, byte(len(body1))}, body1, []byte{byte(len(body2))}, body2)...))
}

// A host function grows its caller's memory with api.Memory.Grow (wazero's method): the Wasm
// code sees the new pages at once, and MaxMemoryPages bounds it; Sandbox.Memory's view grows too.
func TestMemoryGrow(t *testing.T) {
	type cfg struct {
		name string
		c    host.Config
	}
	cases := []cfg{{"microvm-compiled", host.Config{}}, {"microvm-interp", host.Config{Tier: host.TierInterp}},
		{"wazero", host.Config{Engine: host.EngineWazero}}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			grow, err := api.Func("env", "grow", func(m api.Memory, delta uint32) int32 {
				prev, ok := m.Grow(delta)
				if !ok {
					return -1
				}
				if m.Size() != uint64(prev+delta)*65536 || !m.WriteUint8(prev*65536+5, 42) {
					return -2
				}
				return int32(prev)
			})
			require.NoError(t, err)
			c := tc.c
			c.HostFunctions = []api.HostFunction{grow}
			c.MaxMemoryPages = 8
			rt := newRuntime(t, c)
			sb := sandbox(t, rt, growModule())
			ctx := context.Background()
			r, err := sb.Call(ctx, "grow_then_load", 2, 65536+5)
			require.NoError(t, err)
			require.Equal(t, uint64(42), r[0])
			r, err = sb.Call(ctx, "size")
			require.NoError(t, err)
			require.Equal(t, uint64(3), r[0])
			// Past MaxMemoryPages: refused, nothing changes.
			r, err = sb.Call(ctx, "grow_then_load", 6, 0)
			require.NoError(t, err)
			require.Equal(t, uint64(0), r[0])
			r, _ = sb.Call(ctx, "size")
			require.Equal(t, uint64(3), r[0])
			// Between calls, through the sandbox's view.
			mem := sb.Memory()
			require.NotNil(t, mem)
			prev, ok := mem.Grow(1)
			require.True(t, ok)
			require.Equal(t, uint32(3), prev)
			require.Equal(t, uint64(4*65536), mem.Size())
			require.True(t, mem.WriteUint8(4*65536-1, 7))
			_, ok = mem.Grow(5)
			require.False(t, ok)
			r, err = sb.Call(ctx, "size")
			require.NoError(t, err)
			require.Equal(t, uint64(4), r[0])
			r, err = sb.Call(ctx, "grow_then_load", 0, 4*65536-1)
			require.NoError(t, err)
			require.Equal(t, uint64(7), r[0])
			if tc.c.Engine == host.EngineMicroVM {
				// A micro-VM view from before a call is stale: it can no longer grow the memory.
				_, ok = mem.Grow(1)
				require.False(t, ok)
			}
		})
	}
}
