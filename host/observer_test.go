package host_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// recObserver records what a Runtime reports.
type recObserver struct {
	mu                   sync.Mutex
	started, ended       []string
	errs                 []error
	hostCalls            map[string]int
	hostSawCallCtx       bool
	created, closed      int
	durationsArePositive bool
}

func (o *recObserver) CallStarted(ctx context.Context, m *host.Module, export string) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started = append(o.started, export)
	return context.WithValue(ctx, ctxKey{}, export)
}

func (o *recObserver) CallEnded(ctx context.Context, m *host.Module, export string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = append(o.ended, export)
	o.errs = append(o.errs, err)
	o.durationsArePositive = d > 0 && ctx.Value(ctxKey{}) == export
}

func (o *recObserver) HostCall(ctx context.Context, module, name string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hostCalls[module+"."+name]++
	o.hostSawCallCtx = ctx.Value(ctxKey{}) != nil
}

func (o *recObserver) SandboxCreated(*host.Module) { o.mu.Lock(); o.created++; o.mu.Unlock() }
func (o *recObserver) SandboxClosed(*host.Module)  { o.mu.Lock(); o.closed++; o.mu.Unlock() }

func TestObserver(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		o := &recObserver{hostCalls: map[string]int{}}
		rt, _ := hostcallRuntime(t, host.Config{Engine: e, Observer: o})
		mod, err := rt.LoadModule(ctx, fixture(t, "hostcall.wasm"))
		require.NoError(t, err)
		r, err := mod.Call(ctx, "add_loop", 10) // pooled: one CallStarted/Ended, not two
		require.NoError(t, err)
		require.Equal(t, []uint64{10}, r)
		sb, err := mod.NewSandbox(ctx)
		require.NoError(t, err)
		_, err = sb.Call(ctx, "call_fail")
		require.Error(t, err)
		require.NoError(t, sb.Close(ctx))
		require.NoError(t, sb.Close(ctx)) // closed once
		require.NoError(t, mod.Close(ctx))

		o.mu.Lock()
		defer o.mu.Unlock()
		require.Equal(t, []string{"add_loop", "call_fail"}, o.started)
		require.Equal(t, o.started, o.ended)
		require.NoError(t, o.errs[0])
		require.True(t, errors.Is(o.errs[1], errFail), "%v", o.errs[1])
		require.True(t, o.durationsArePositive)
		require.Equal(t, 10, o.hostCalls["env.add"])
		require.Equal(t, 1, o.hostCalls["env.fail"])
		require.True(t, o.hostSawCallCtx, "host functions get the context CallStarted returned")
		require.Positive(t, o.created)
		require.Equal(t, o.created, o.closed, "every sandbox reported closed once")
	})
}
