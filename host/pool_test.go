package host_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

// Fresh state per call: a module that increments a global and a memory cell sees 1 and 1
// (1001) on every call, across thousands of calls and concurrent callers, and a call that
// traps or times out after dirtying state leaves no trace in the next.
func TestFreshStatePerCall(t *testing.T) {
	for _, c := range []struct {
		name   string
		engine host.Engine
		mode   host.ResetMode
	}{{"microvm-compare", host.EngineMicroVM, host.ResetCompare}, {"microvm-dirtylog", host.EngineMicroVM, host.ResetDirtyLog},
		{"wazero", host.EngineWazero, 0}} {
		mode := c.mode
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			rt := newRuntime(t, host.Config{Engine: c.engine, PoolSize: 3, ResetMode: mode})
			mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
			require.NoError(t, err)
			defer mod.Close(ctx)
			calls := 2000
			if testing.Short() {
				calls = 200
			}
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < calls/4; i++ {
						r, err := mod.Call(ctx, "incr")
						if err != nil {
							errs <- err
							return
						}
						if r[0] != 1001 {
							errs <- &leak{r[0]}
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			_, err = mod.Call(ctx, "dirty_then_trap")
			require.ErrorIs(t, err, host.ErrTrap)
			tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
			_, err = mod.Call(tctx, "dirty_then_spin")
			cancel()
			require.ErrorIs(t, err, host.ErrDeadline)
			for i := 0; i < 10; i++ {
				r, err := mod.Call(ctx, "peek")
				require.NoError(t, err)
				require.Equal(t, uint64(0), r[0], "state leaked into a fresh call")
			}
		})
	}
}

type leak struct{ got uint64 }

func (l *leak) Error() string { return "state leaked between calls: incr returned " + itoa(l.got) }

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// A long-lived sandbox keeps its state across calls until Reset; Reset also revives a sandbox
// that faulted or timed out.
func TestSandboxReset(t *testing.T) {
	ctx := context.Background()
	sb := sandbox(t, newRuntime(t, host.Config{}), fixture(t, "fresh.wasm"))
	for want := uint64(1001); want <= 3003; want += 1001 {
		r, err := sb.Call(ctx, "incr")
		require.NoError(t, err)
		require.Equal(t, want, r[0])
	}
	require.NoError(t, sb.Reset(ctx))
	r, err := sb.Call(ctx, "peek")
	require.NoError(t, err)
	require.Equal(t, uint64(0), r[0])
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = sb.Call(tctx, "dirty_then_spin")
	cancel()
	require.ErrorIs(t, err, host.ErrDeadline)
	_, err = sb.Call(ctx, "peek")
	require.ErrorIs(t, err, host.ErrUnusable)
	require.NoError(t, sb.Reset(ctx))
	r, err = sb.Call(ctx, "incr")
	require.NoError(t, err)
	require.Equal(t, uint64(1001), r[0])
}

// A pooled sandbox goes back dirty and is reset by the next call, or by the pool's janitor when
// no call comes (so an idle pool holds no call's pages), or — when calls come apart, as a
// server's do — in the background right away; a call whose context has ended while it would
// reset one fails with the context's error and the pool serves the next call fresh.
func TestPoolResetsLazilyAndWhenIdle(t *testing.T) {
	for _, apart := range []time.Duration{0, time.Millisecond} {
		t.Run(apart.String(), func(t *testing.T) {
			ctx := context.Background()
			o := &vmObserver{recObserver: recObserver{hostCalls: map[string]int{}}, exits: map[string]uint64{}}
			rt := newRuntime(t, host.Config{PoolSize: 1, Observer: o})
			mod, err := rt.LoadModule(ctx, fixture(t, "fresh.wasm"))
			require.NoError(t, err)
			defer mod.Close(ctx)
			resets := func() int { o.mu.Lock(); defer o.mu.Unlock(); return o.resets }
			for i := range 3 {
				time.Sleep(apart)
				r, err := mod.Call(ctx, "incr")
				require.NoError(t, err)
				require.Equal(t, uint64(1001), r[0], "call %d saw the state of the one before", i)
			}
			deadline := time.Now().Add(10 * time.Second)
			for mod.PooledSandboxes() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			require.Equal(t, 1, mod.PooledSandboxes(), "the idle pool's sandbox was not reset")
			require.Equal(t, 3, resets(), "one reset after each call, by the next call, the janitor or in the background")
			_, err = mod.Call(ctx, "incr") // dirty again
			require.NoError(t, err)
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			_, err = mod.Call(canceled, "incr")
			require.ErrorIs(t, err, host.ErrCanceled)
			r, err := mod.Call(ctx, "incr")
			require.NoError(t, err)
			require.Equal(t, uint64(1001), r[0])
			o.mu.Lock()
			defer o.mu.Unlock()
			require.Empty(t, o.resetErrs)
		})
	}
}
