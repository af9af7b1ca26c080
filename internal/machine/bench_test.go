package machine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/internal/vmm"
)

func BenchmarkPing(b *testing.B) {
	k, err := vmm.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	for _, c := range []struct {
		guestSpin, hostSpin time.Duration
	}{{0, 0}, {0, 250 * time.Microsecond}, {time.Millisecond, 250 * time.Microsecond}} {
		b.Run(fmt.Sprintf("guest=%v/host=%v", c.guestSpin, c.hostSpin), func(b *testing.B) {
			m, err := New(ctx, Config{KVM: k, GuestSpin: c.guestSpin, HostSpin: c.hostSpin})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			m.Ping(ctx)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := m.Ping(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.Stats().Parks)/float64(b.N), "parks/op")
		})
	}
}

// Export index of bench.Module's host_loop(n), which calls env.add n times.
const benchHostLoop = 3

// BenchmarkHostLoop: one call making n host calls, with and without exit-less host calls.
func BenchmarkHostLoop(b *testing.B) {
	k, err := vmm.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	for _, n := range []uint64{1, 16, 1000} {
		for _, spin := range []time.Duration{-1, 0, 250 * time.Microsecond} {
			b.Run(fmt.Sprintf("n=%d/hostcallspin=%v", n, spin), func(b *testing.B) {
				m, inst := benchMachineNoSnapshot(b, Config{KVM: k, HostCallSpin: spin})
				m.Call(ctx, inst, benchHostLoop, []uint64{n}, 1)
				p0 := m.Stats().Parks
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := m.Call(ctx, inst, benchHostLoop, []uint64{n}, 1); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/hostcall")
				b.ReportMetric(float64(m.Stats().Parks-p0)/float64(b.N), "parks/op")
				h := m.Hot()
				b.ReportMetric(float64(h.HotAfter), "hotafter")
				b.ReportMetric(float64(h.Served)/float64(b.N), "exitless/op")
				b.ReportMetric(float64(h.Phases)/float64(b.N), "phases/op")
			})
		}
	}
}

// BenchmarkHostCallContext: host_loop(16) under a deadline, parked host calls only, with a
// host function that honors its context (runs inline) and one that does not (the request
// moves to the machine's server goroutine at its first host call, so that the deadline can give
// the function up).
func BenchmarkHostCallContext(b *testing.B) {
	k, err := vmm.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	for _, honors := range []bool{true, false} {
		b.Run(fmt.Sprintf("honors=%v", honors), func(b *testing.B) {
			h := newTestHost()
			m, inst, _ := testMachine(b, Config{KVM: k, HostCallSpin: -1}, h.fn(honors))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Call(ctx, inst, benchHostLoop, []uint64{16}, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/hostcall")
		})
	}
}

// BenchmarkCallAfterReset: the call alone, on a machine reset before each call (what a pooled
// Module.Call is, the reset done off the call's path) against a warm call, with and without a
// deadline on the call.
func BenchmarkCallAfterReset(b *testing.B) {
	k, err := vmm.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	for _, reset := range []bool{false, true} {
		for _, deadline := range []bool{false, true} {
			b.Run(fmt.Sprintf("reset=%v/deadline=%v", reset, deadline), func(b *testing.B) {
				m, inst, s := benchMachine(b, Config{KVM: k})
				ctx := context.Background()
				if deadline {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Hour)
					defer cancel()
				}
				var in time.Duration
				for i := 0; i < b.N; i++ {
					if reset {
						if _, err := m.Reset(ctx, s); err != nil {
							b.Fatal(err)
						}
					}
					t0 := time.Now()
					if _, err := m.Call(ctx, inst, benchDirty, []uint64{4}, 1); err != nil {
						b.Fatal(err)
					}
					in += time.Since(t0)
				}
				b.ReportMetric(float64(in.Nanoseconds())/float64(b.N), "call-ns")
			})
		}
	}
}
