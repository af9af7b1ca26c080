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
