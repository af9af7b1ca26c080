package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
)

// blockingRuntime allows env.add, which blocks until release is closed, ignoring its context.
func blockingRuntime(t *testing.T, cfg host.Config) (rt *host.Runtime, entered chan api.Memory, release chan struct{}) {
	t.Helper()
	entered, release = make(chan api.Memory, 16), make(chan struct{})
	t.Cleanup(func() { close(release) })
	add := api.HostFunction{ModuleName: "env", Name: "add",
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, mem api.Memory, stack []uint64) error {
			entered <- mem
			<-release
			return nil
		}}
	fail, err := api.Func("env", "fail", func() {})
	require.NoError(t, err)
	boom, err := api.Func("env", "boom", func() {})
	require.NoError(t, err)
	cfg.HostFunctions = []api.HostFunction{add, fail, boom}
	return newRuntime(t, cfg), entered, release
}

// within fails the test if f does not return in a minute (a hang, not a timing assertion).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return", what)
	}
}

// A host function that ignores its context must not hold the call past its deadline, and
// Close must not wait for it.
func TestBlockingHostFunctionDeadline(t *testing.T) {
	for _, spin := range []time.Duration{0, time.Millisecond} {
		rt, entered, _ := blockingRuntime(t, host.Config{Spin: spin})
		sb := sandbox(t, rt, fixture(t, "hostcall.wasm"))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		var err error
		within(t, "a call whose host function blocks", func() { _, err = sb.Call(ctx, "call_add", 1, 2) })
		cancel()
		require.ErrorIs(t, err, host.ErrDeadline)
		<-entered
		_, err = sb.Call(context.Background(), "call_add", 1, 2)
		require.ErrorIs(t, err, host.ErrUnusable)
		within(t, "Close after the deadline", func() { require.NoError(t, sb.Close(context.Background())) })
	}
}

// Close while a call waits for a blocked host function ends that call with ErrClosed.
func TestCloseDuringBlockedHostFunction(t *testing.T) {
	rt, entered, _ := blockingRuntime(t, host.Config{})
	sb := sandbox(t, rt, fixture(t, "hostcall.wasm"))
	errc := make(chan error, 1)
	go func() { _, err := sb.Call(context.Background(), "call_add", 1, 2); errc <- err }()
	<-entered
	within(t, "Close during a blocked host function", func() { sb.Close(context.Background()) })
	within(t, "the interrupted call", func() { require.ErrorIs(t, <-errc, host.ErrClosed) })
}

// A memory view kept past its host call, or past the sandbox's Close, fails instead of
// reading stale or unmapped guest memory.
func TestMemoryViewsExpire(t *testing.T) {
	var kept api.Memory
	peek := api.HostFunction{ModuleName: "env", Name: "add",
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, mem api.Memory, stack []uint64) error {
			if _, ok := mem.ReadUint8(0); !ok {
				return errFail
			}
			kept = mem
			return nil
		}}
	fail, _ := api.Func("env", "fail", func() {})
	boom, _ := api.Func("env", "boom", func() {})
	rt := newRuntime(t, host.Config{HostFunctions: []api.HostFunction{peek, fail, boom}})
	sb := sandbox(t, rt, fixture(t, "hostcall.wasm"))
	_, err := sb.Call(context.Background(), "call_add", 1, 2)
	require.NoError(t, err)
	_, ok := kept.ReadUint8(0)
	require.False(t, ok, "a host function's view after its host call")
	require.False(t, kept.WriteUint8(0, 1))
	mem := sb.Memory()
	require.NotNil(t, mem)
	_, ok = mem.ReadUint32Le(0)
	require.True(t, ok)
	require.NoError(t, sb.Close(context.Background()))
	_, ok = mem.ReadUint32Le(0)
	require.False(t, ok, "a view after Close")
	require.Zero(t, mem.Size())
}

// startLoop is (module (func $s (loop (br 0))) (start $s)).
var startLoop = []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 8, 1, 0,
	0x0a, 9, 1, 7, 0, 3, 0x40, 0x0c, 0, 0x0b, 0x0b}

// Loading has a deadline by default: a start function that loops cannot hang LoadModule.
func TestLoadTimeout(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		rt := newRuntime(t, host.Config{Engine: e, LoadTimeout: 200 * time.Millisecond})
		var err error
		within(t, "LoadModule of a looping start function", func() {
			_, err = rt.LoadModule(context.Background(), startLoop)
		})
		require.ErrorIs(t, err, host.ErrDeadline)
	})
}

// Host function failures are the same public types on both engines (errors.As).
func TestPublicErrorTypes(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		rt, _ := hostcallRuntime(t, host.Config{Engine: e})
		mod, err := rt.LoadModule(ctx, fixture(t, "hostcall.wasm"))
		require.NoError(t, err)
		defer mod.Close(ctx)
		_, err = mod.Call(ctx, "call_fail")
		var he *host.HostError
		require.ErrorAs(t, err, &he)
		require.Equal(t, "env.fail", he.Func)
		require.ErrorIs(t, err, errFail)
		_, err = mod.Call(ctx, "call_boom")
		var pe *host.PanicError
		require.ErrorAs(t, err, &pe, "%v", err)
		require.Equal(t, "boom", pe.Value)
	})
}

// A 4 GiB memory's view reports 2^32 bytes (a uint32 size wrapped to 0 and made every WASI
// pointer check fail) and reaches its last byte.
func TestFourGiBMemory(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		var size uint64
		var wrote bool
		add := api.HostFunction{ModuleName: "env", Name: "add",
			ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
			Fn: func(ctx context.Context, mem api.Memory, stack []uint64) error {
				size = mem.Size()
				wrote = mem.WriteUint32Le(0xfffffffc, 0x12345678)
				_, past := mem.ReadUint8(0xffffffff)
				require.True(t, past, "the last byte")
				return nil
			}}
		rt := newRuntime(t, host.Config{Engine: e, MaxMemoryPages: 65536, HostFunctions: []api.HostFunction{add}})
		sb := sandbox(t, rt, fixture(t, "mem4g.wasm"))
		ctx := context.Background()
		_, err := sb.Call(ctx, "probe")
		require.NoError(t, err)
		require.Equal(t, uint64(1)<<32, size)
		require.True(t, wrote)
		if e == host.EngineWazero {
			return // wazero 1.12's compiler traps an i32.load at 0xfffffffc of a 4 GiB memory
		}
		r, err := sb.Call(ctx, "last")
		require.NoError(t, err)
		require.Equal(t, []uint64{0x12345678}, r)
	})
}
