package host_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

// nestedRuntime defines env.reenter(n): it calls back into the calling instance's down(n-1)
// (tests/testdata/nested.wat) and returns its result + 1. When that nested call fails,
// reenter records the error and returns 0 (propagate false) or returns the error itself.
func nestedRuntime(t *testing.T, cfg host.Config, propagate bool, failed *error) *host.Runtime {
	t.Helper()
	reenter, err := api.Func("env", "reenter", func(ctx context.Context, n int32) (int32, error) {
		c, ok := api.CallerFromContext(ctx)
		if !ok {
			return 0, errors.New("no caller")
		}
		r, err := c.Call(ctx, "down", uint64(uint32(n-1)))
		if err != nil {
			if *failed == nil {
				*failed = err // the deepest level fails first
			}
			if propagate {
				return 0, err
			}
			return 0, nil
		}
		return int32(r[0]) + 1, nil
	})
	require.NoError(t, err)
	cfg.HostFunctions = []api.HostFunction{reenter}
	return newRuntime(t, cfg)
}

// Mutual recursion through nested host<->guest calls is bounded like any other recursion: the
// innermost nested call traps "call stack exhausted" (it used to overflow the guest's C stack
// about 5000 levels deep: a guest fault that killed the sandbox), each level gets the trap
// back from api.Caller.Call, and the sandbox stays usable. Micro-VMs only: wazero does not
// bound this recursion (50000 levels take minutes there and all succeed).
func TestNestedRecursionExhaustsCallStack(t *testing.T) {
	for _, spin := range []time.Duration{0, time.Millisecond} { // parked; without exits
		t.Run("spin="+spin.String(), func(t *testing.T) { testNestedRecursion(t, host.EngineMicroVM, spin) })
	}
}

func testNestedRecursion(t *testing.T, e host.Engine, spin time.Duration) {
	ctx := context.Background()
	const deep = 50000 // beyond MaxCallDepth (10000 frames) and beyond the guest's C stack
	var failed error
	rt := nestedRuntime(t, host.Config{Engine: e, Spin: spin}, false, &failed)
	sb := sandbox(t, rt, fixture(t, "nested.wasm"))

	r, err := sb.Call(ctx, "down", 100)
	require.NoError(t, err)
	require.Equal(t, []uint64{100}, r)
	require.NoError(t, failed)

	for i := 0; i < 2; i++ { // the second time from the state the first one left
		failed = nil
		r, err = sb.Call(ctx, "down", deep)
		require.NoError(t, err, "the levels above the exhausted one return normally")
		require.Less(t, r[0], uint64(deep))
		require.Greater(t, r[0], uint64(500), "nested recursion should reach some depth")
		require.Error(t, failed)
		require.NotErrorIs(t, failed, host.ErrGuestFault)
		require.ErrorIs(t, failed, host.ErrTrap)
		require.ErrorContains(t, failed, "call stack exhausted")
		var nte *host.TrapError // a nested call's trap is the public type too
		require.ErrorAs(t, failed, &nte)
		require.Equal(t, host.TrapCallStackExhausted, nte.Kind)
		t.Logf("nested depth reached: %d (%v)", r[0], failed)

		// Still usable: nested calls, and recursion inside the guest up to its own limit.
		r, err = sb.Call(ctx, "down", 10)
		require.NoError(t, err)
		require.Equal(t, []uint64{10}, r)
		r, err = sb.Call(ctx, "local", 1000)
		require.NoError(t, err)
		require.Equal(t, []uint64{1000}, r)
	}
	_, err = sb.Call(ctx, "local", deep)
	var te *host.TrapError
	require.ErrorAs(t, err, &te)
	require.Equal(t, host.TrapCallStackExhausted, te.Kind)

	// A host function that propagates the trap ends the outer call with a trap, not a fault.
	failed = nil
	rt = nestedRuntime(t, host.Config{Engine: e, Spin: spin}, true, &failed)
	sb = sandbox(t, rt, fixture(t, "nested.wasm"))
	_, err = sb.Call(ctx, "down", deep)
	require.Error(t, err)
	require.NotErrorIs(t, err, host.ErrGuestFault)
	require.ErrorIs(t, failed, host.ErrTrap)
	require.ErrorContains(t, failed, "call stack exhausted")
}
