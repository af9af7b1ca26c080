package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
)

// BenchmarkHotHostCall is one exit-less host call (a spinning guest, 16 per Wasm call, as
// hlwasm bench's host-call-hot): with a deadline and a host function that ignores its context,
// each Wasm call hands off to the machine's server goroutine at its first host call (the
// server then serves all 16 inline); with one that HonorsContext, or without a deadline
// (NoTimeout and context.Background), everything runs on the caller's goroutine.
func BenchmarkHotHostCall(b *testing.B) {
	const loop = 16
	for _, c := range []struct {
		name    string
		timeout time.Duration
		honors  bool
	}{{"deadline", 0, false}, {"deadline-honors-context", 0, true}, {"no-deadline", host.NoTimeout, false}} {
		b.Run(c.name, func(b *testing.B) {
			add := bench.HostAdd
			add.HonorsContext = c.honors
			rt := newRuntime(b, host.Config{Spin: time.Millisecond, CallTimeout: c.timeout,
				HostFunctions: []api.HostFunction{add}})
			sb := sandbox(b, rt, bench.Module)
			ctx := context.Background()
			sb.Call(ctx, "add", 1, 2) // enter the spinning state
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := sb.Call(ctx, "host_loop", loop); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/loop, "ns/hostcall")
		})
	}
}
