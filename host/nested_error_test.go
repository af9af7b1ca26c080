package host_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

// A host function that fails inside a nested call: the error reaches each level with its
// cause, the outer call ends with it and leaves the sandbox unusable like any host function's
// failure (until Reset); a level that handles the nested failure itself ends normally and the
// sandbox stays usable, its later traps reported as traps.
func TestNestedHostFunctionError(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		errBoom := errors.New("boom")
		fail, swallow := true, false
		var nestedErr error
		reenter, err := api.Func("env", "reenter", func(ctx context.Context, n int32) (int32, error) {
			if n == 1 && fail {
				return 0, errBoom
			}
			c, _ := api.CallerFromContext(ctx)
			r, err := c.Call(ctx, "down", uint64(uint32(n-1)))
			if err != nil {
				if n == 2 {
					nestedErr = err
				}
				if swallow {
					return 7, nil
				}
				return 0, err
			}
			return int32(r[0]) + 1, nil
		})
		require.NoError(t, err)
		rt := newRuntime(t, host.Config{Engine: e, HostFunctions: []api.HostFunction{reenter}})
		sb := sandbox(t, rt, fixture(t, "nested.wasm"))

		_, err = sb.Call(ctx, "down", 3)
		require.ErrorIs(t, err, errBoom)
		var he *host.HostError
		require.ErrorAs(t, err, &he)
		require.ErrorIs(t, nestedErr, errBoom, "the nested call's error names the failed function's")
		_, err = sb.Call(ctx, "down", 10)
		require.ErrorIs(t, err, host.ErrUnusable)
		require.NoError(t, sb.Reset(ctx))
		fail = false
		r, err := sb.Call(ctx, "down", 10)
		require.NoError(t, err)
		require.Equal(t, []uint64{10}, r)

		fail, swallow = true, true
		r, err = sb.Call(ctx, "down", 3)
		require.NoError(t, err, "the level that handled the nested failure returned normally")
		require.Equal(t, []uint64{8}, r)
		if e == host.EngineMicroVM { // wazero's call depth is not bounded at 10000 frames
			_, err = sb.Call(ctx, "local", 100000)
			var te *host.TrapError
			require.ErrorAs(t, err, &te, "a later trap is a trap, not the handled host failure")
			require.Equal(t, host.TrapCallStackExhausted, te.Kind)
		}
		fail = false
		r, err = sb.Call(ctx, "down", 10)
		require.NoError(t, err)
		require.Equal(t, []uint64{10}, r)
	})
}
