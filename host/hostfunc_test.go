package host_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

var errFail = errors.New("fail on purpose")

func hostcallRuntime(t testing.TB, cfg host.Config) (*host.Runtime, *bytes.Buffer) {
	t.Helper()
	add, err := api.Func("env", "add", func(a, b int32) int32 { return a + b })
	require.NoError(t, err)
	fail, err := api.Func("env", "fail", func() error { return errFail })
	require.NoError(t, err)
	boom, err := api.Func("env", "boom", func() { panic("boom") })
	require.NoError(t, err)
	var log bytes.Buffer
	cfg.HostFunctions = []api.HostFunction{add, fail, boom}
	cfg.Log = &log
	return newRuntime(t, cfg), &log
}

func TestHostFunctions(t *testing.T) {
	engines(t, testHostFunctions)
}

func testHostFunctions(t *testing.T, e host.Engine) {
	for _, spin := range []bool{false, true} {
		name := "parked"
		cfg := host.Config{Engine: e}
		if spin {
			name, cfg.Spin = "spinning", 1e6 // 1ms
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rt, log := hostcallRuntime(t, cfg)
			sb := sandbox(t, rt, fixture(t, "hostcall.wasm"))
			r, err := sb.Call(ctx, "call_add", 40, 2)
			require.NoError(t, err)
			require.Equal(t, []uint64{42}, r)
			r, err = sb.Call(ctx, "add_loop", 1000)
			require.NoError(t, err)
			require.Equal(t, []uint64{1000}, r)
			_, err = sb.Call(ctx, "greet")
			require.NoError(t, err)
			require.Equal(t, "hello, host", log.String())

			// A host function's error ends the call with that error; the sandbox is unusable.
			_, err = sb.Call(ctx, "call_fail")
			require.ErrorIs(t, err, errFail)
			_, err = sb.Call(ctx, "call_add", 1, 2)
			require.ErrorIs(t, err, host.ErrUnusable)

			// A panic too, and a log range outside memory.
			for _, fn := range []string{"call_boom", "bad_log"} {
				sb2 := sandbox(t, rt, fixture(t, "hostcall.wasm"))
				_, err = sb2.Call(ctx, fn)
				require.Error(t, err, fn)
				t.Logf("%s: %v", fn, err)
			}
		})
	}
}
