package wazeroengine_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
)

var errBoom = errors.New("boom")

func hostFuncs(t *testing.T) []api.HostFunction {
	add, err := api.Func("env", "add", func(a int32, b int64) int64 { return int64(a) + b })
	require.NoError(t, err)
	fail, err := api.Func("env", "fail", func(code uint32) error {
		if code == 0 {
			return errBoom
		}
		return &api.ExitError{Code: code}
	})
	require.NoError(t, err)
	peek, err := api.Func("env", "peek", func(m api.Memory, off, n uint32) int32 {
		b, ok := m.Read(off, n)
		if !ok {
			return -1
		}
		s := int32(0)
		for _, c := range b {
			s += int32(c)
		}
		b[0] = 'X' // a copy: guest memory is unchanged
		return s
	})
	require.NoError(t, err)
	return []api.HostFunction{add, fail, peek}
}

func load(t *testing.T, path string, funcs []api.HostFunction, cfg wazeroengine.Config) *wazeroengine.Instance {
	t.Helper()
	wasm, err := os.ReadFile(path)
	require.NoError(t, err)
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, funcs, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mod.Close() })
	inst, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	return inst
}

func TestHostFunctions(t *testing.T) {
	for _, compiler := range []bool{false, true} {
		inst := load(t, "testdata/host.wasm", hostFuncs(t), wazeroengine.Config{Compiler: compiler, MaxMemoryPages: 2})
		ctx := context.Background()
		res, err := inst.Call(ctx, "call_add", uint64(uint32(0xfffffffe)), 10) // -2 + 10
		require.NoError(t, err)
		require.Equal(t, []uint64{8}, res)

		res, err = inst.Call(ctx, "call_peek", 16, 5)
		require.NoError(t, err)
		require.Equal(t, uint64('h'+'e'+'l'+'l'+'o'), res[0])
		b, ok := inst.Memory().Read(16, 5)
		require.True(t, ok)
		require.Equal(t, "hello", string(b))
		res, err = inst.Call(ctx, "call_peek", 65530, 10)
		require.NoError(t, err)
		require.Equal(t, uint64(0xffffffff), res[0])
		res, err = inst.Call(ctx, "call_peek", 0xffffffff, 2)
		require.NoError(t, err)
		require.Equal(t, uint64(0xffffffff), res[0])

		_, err = inst.Call(ctx, "call_fail", 0)
		require.ErrorIs(t, err, errBoom)
		var he *wazeroengine.HostError
		require.ErrorAs(t, err, &he)
		require.Equal(t, "env.fail", he.Func)
		kind, ok := wazeroengine.TrapKind(err)
		require.True(t, ok)
		require.Equal(t, uint32(abi.TrapHost), kind)

		_, err = inst.Call(ctx, "call_fail", 3)
		var exit *api.ExitError
		require.ErrorAs(t, err, &exit)
		require.Equal(t, uint32(3), exit.Code)
		_, ok = wazeroengine.TrapKind(err)
		require.False(t, ok)

		// MaxMemoryPages caps growth below the module's own maximum (4).
		res, err = inst.Call(ctx, "grow", 1)
		require.NoError(t, err)
		require.Equal(t, uint64(1), res[0])
		res, err = inst.Call(ctx, "grow", 1)
		require.NoError(t, err)
		require.Equal(t, uint64(0xffffffff), res[0])

		_, err = inst.Call(ctx, "nope")
		require.ErrorIs(t, err, wazeroengine.ErrNoExport)
		_, err = inst.Call(ctx, "call_add", 1)
		require.ErrorIs(t, err, wazeroengine.ErrParams)
		require.NoError(t, inst.Close())
	}
}

func TestLoadErrors(t *testing.T) {
	wasm, err := os.ReadFile("testdata/host.wasm")
	require.NoError(t, err)
	ctx := context.Background()
	funcs := hostFuncs(t)
	_, err = wazeroengine.Load(ctx, wasm, funcs[:2], wazeroengine.Config{})
	require.ErrorIs(t, err, wazeroengine.ErrImport)
	require.Contains(t, err.Error(), "env.peek")
	bad := append([]api.HostFunction(nil), funcs...)
	bad[0].ParamTypes = []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}
	_, err = wazeroengine.Load(ctx, wasm, bad, wazeroengine.Config{})
	require.ErrorIs(t, err, wazeroengine.ErrImport)
	require.Contains(t, err.Error(), "env.add")
	_, err = wazeroengine.Load(ctx, wasm, append(funcs, funcs[0]), wazeroengine.Config{})
	require.ErrorIs(t, err, wazeroengine.ErrDuplicate)
	_, err = wazeroengine.Load(ctx, []byte("\x00asm junk"), funcs, wazeroengine.Config{})
	require.Error(t, err)
	_, err = wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{MaxMemoryPages: 70000})
	require.ErrorIs(t, err, wazeroengine.ErrConfig)
}

func TestTraps(t *testing.T) {
	want := map[string][]uint32{
		"unreachable":            {abi.TrapUnreachable},
		"oob_load":               {abi.TrapMemoryOutOfBounds},
		"oob_store":              {abi.TrapMemoryOutOfBounds},
		"oob_straddle":           {abi.TrapMemoryOutOfBounds},
		"div_zero":               {abi.TrapDivideByZero},
		"rem_zero_i64":           {abi.TrapDivideByZero},
		"div_overflow":           {abi.TrapIntegerOverflow},
		"trunc_nan":              {abi.TrapInvalidConversion},
		"trunc_overflow":         {abi.TrapIntegerOverflow},
		"indirect_type_mismatch": {abi.TrapIndirectTypeMismatch},
		"indirect_undefined":     {abi.TrapUndefinedElement},
		// wazero does not tell a null element from a missing one.
		"indirect_null":  {abi.TrapUninitializedElement, abi.TrapUndefinedElement},
		"stack_overflow": {abi.TrapCallStackExhausted},
	}
	for _, compiler := range []bool{false, true} {
		inst := load(t, "../../tests/testdata/traps.wasm", nil, wazeroengine.Config{Compiler: compiler})
		for name, kinds := range want {
			_, err := inst.Call(context.Background(), name)
			require.Error(t, err, name)
			kind, ok := wazeroengine.TrapKind(err)
			require.True(t, ok, "%s: %v", name, err)
			require.Contains(t, kinds, kind, "%s: %s", name, abi.TrapMessages[kind])
		}
		res, err := inst.Call(context.Background(), "indirect_ok", 5)
		require.NoError(t, err)
		require.Equal(t, []uint64{4}, res)
		_, ok := wazeroengine.TrapKind(nil)
		require.False(t, ok)
	}
}

func TestDeadline(t *testing.T) {
	for _, compiler := range []bool{false, true} {
		inst := load(t, "../../tests/testdata/traps.wasm", nil, wazeroengine.Config{Compiler: compiler})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := inst.Call(ctx, "spin")
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		_, ok := wazeroengine.TrapKind(err)
		require.False(t, ok)
	}
}

// TestInstances: one Module, independent instances.
func TestInstances(t *testing.T) {
	wasm, err := os.ReadFile("../../tests/testdata/traps.wasm")
	require.NoError(t, err)
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, nil, wazeroengine.Config{})
	require.NoError(t, err)
	defer mod.Close()
	a, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	b, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	_, err = a.Call(ctx, "grow", 2)
	require.NoError(t, err)
	sa, _ := a.Call(ctx, "size")
	sb, _ := b.Call(ctx, "size")
	require.Equal(t, []uint64{3}, sa)
	require.Equal(t, []uint64{1}, sb)
}
