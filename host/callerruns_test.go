package host_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
)

// Calls from many goroutines at once — each on a sandbox of its own and all sharing one
// module's pool (Module.Call) — with deadlines that expire in guest code, in host functions
// (one that honors its context, one that ignores it) and while the call is being set up: every
// result is right and every error is ErrDeadline; sandboxes that hit a deadline are reset and
// serve again, and the pool serves on.
func TestConcurrentCallsDeadlines(t *testing.T) {
	// env.add adds, except for a == -1: blocks until its context ends, honoring it; env.fail
	// blocks ignoring its context (it runs on the machine's server goroutine when the call has a
	// deadline) until the test ends.
	release := make(chan struct{})
	defer close(release)
	add := api.HostFunction{ModuleName: "env", Name: "add", HonorsContext: true,
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, ResultTypes: []api.ValueType{api.ValueTypeI32},
		Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
			if int32(stack[0]) == -1 {
				<-ctx.Done()
				return ctx.Err()
			}
			stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
			return nil
		}}
	fail := api.HostFunction{ModuleName: "env", Name: "fail",
		Fn: func(ctx context.Context, _ api.Memory, _ []uint64) error { <-release; return nil }}
	boom, err := api.Func("env", "boom", func() {})
	require.NoError(t, err)
	rt := newRuntime(t, host.Config{PoolSize: 3, HostFunctions: []api.HostFunction{add, fail, boom}})
	ctx := context.Background()
	hc, err := rt.LoadModule(ctx, fixture(t, "hostcall.wasm"))
	require.NoError(t, err)
	defer hc.Close(ctx)
	traps, err := rt.LoadModule(ctx, fixture(t, "traps.wasm"))
	require.NoError(t, err)
	defer traps.Close(ctx)

	const goroutines, rounds = 6, 30
	var wg sync.WaitGroup
	var answered, deadlines atomic.Int64
	errc := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		sb, err := hc.NewSandbox(ctx)
		require.NoError(t, err)
		defer sb.Close(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				err := step(sb, hc, traps, g, i)
				switch {
				case err == nil:
					answered.Add(1)
				case errors.Is(err, host.ErrDeadline):
					deadlines.Add(1)
					if err := sb.Reset(ctx); err != nil { // a no-op unless sb was the one stopped
						errc <- fmt.Errorf("reset: %w", err)
						return
					}
				default:
					errc <- fmt.Errorf("goroutine %d round %d: %w", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("%d answered, %d deadlines", answered.Load(), deadlines.Load())
	r, err := hc.Call(ctx, "add_loop", 50)
	require.NoError(t, err)
	require.Equal(t, []uint64{50}, r)
}

func step(sb *host.Sandbox, hc, traps *host.Module, g, i int) error {
	bg := context.Background()
	want := func(r []uint64, err error, v uint64) error {
		if err == nil && r[0] != v {
			return fmt.Errorf("got %d, want %d", r[0], v)
		}
		return err
	}
	expectErr := func(_ []uint64, err error) error {
		if err == nil {
			return errors.New("the call returned instead of ending at its deadline")
		}
		return err
	}
	short := func(d time.Duration) (context.Context, context.CancelFunc) { return context.WithTimeout(bg, d) }
	switch i % 7 {
	case 0: // many host calls, pooled
		r, err := hc.Call(bg, "add_loop", uint64(20+i))
		return want(r, err, uint64(20+i))
	case 1: // many host calls, own sandbox
		r, err := sb.Call(bg, "add_loop", uint64(20+g))
		return want(r, err, uint64(20+g))
	case 2: // deadline in guest code, pooled
		ctx, cancel := short(2 * time.Millisecond)
		defer cancel()
		return expectErr(traps.Call(ctx, "spin"))
	case 3: // deadline in a host function that honors it, own sandbox
		ctx, cancel := short(time.Millisecond)
		defer cancel()
		return expectErr(sb.Call(ctx, "call_add", uint64(0xffffffff), 0))
	case 4: // deadline in a host function that ignores it, pooled
		ctx, cancel := short(time.Millisecond)
		defer cancel()
		return expectErr(hc.Call(ctx, "call_fail"))
	case 5: // deadline while the call is set up (or racing its exits), pooled and own
		ctx, cancel := short(time.Duration(i%3) * 30 * time.Microsecond)
		defer cancel()
		if g%2 == 0 {
			r, err := hc.Call(ctx, "call_add", uint64(g), uint64(i))
			return want(r, err, uint64(g+i))
		}
		r, err := sb.Call(ctx, "call_add", uint64(g), uint64(i))
		return want(r, err, uint64(g+i))
	default:
		r, err := sb.Call(bg, "call_add", uint64(g), uint64(i))
		return want(r, err, uint64(g+i))
	}
}
