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
