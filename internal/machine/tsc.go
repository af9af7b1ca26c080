package machine

import (
	"sync"
	"time"
)

func rdtsc() uint64

var (
	tscOnce      sync.Once
	tscPerSecond float64
)

// cyclesFor converts a duration to TSC cycles. The guest's TSC runs at the host's rate; the
// rate is calibrated once per process (~2 ms).
func cyclesFor(d time.Duration) uint64 {
	tscOnce.Do(func() {
		t0, c0 := time.Now(), rdtsc()
		for time.Since(t0) < 2*time.Millisecond {
		}
		t1, c1 := time.Now(), rdtsc()
		tscPerSecond = float64(c1-c0) / t1.Sub(t0).Seconds()
	})
	if d <= 0 {
		return 0
	}
	return uint64(d.Seconds() * tscPerSecond)
}
