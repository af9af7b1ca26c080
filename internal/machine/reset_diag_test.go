package machine

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/vmm"
)

func med(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func TestResetDiag(t *testing.T) {
	if os.Getenv("HLWASM_DIAG") == "" {
		t.Skip("diagnostic: set HLWASM_DIAG=1")
	}
	k, _ := vmm.Open()
	ctx := context.Background()
	for _, mode := range []ResetMode{ResetCompare, ResetDirtyLog} {
		m, err := New(ctx, Config{KVM: k})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := m.Load(ctx, bench.Module)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := m.Snapshot(ctx, mode)
		var tr, tc, tp []time.Duration
		var st ResetStats
		for i := 0; i < 200; i++ {
			t0 := time.Now()
			st, err = m.Reset(ctx, s)
			t1 := time.Now()
			if _, err := m.Call(ctx, inst, 2, []uint64{1}, 1); err != nil {
				t.Fatal(err)
			}
			t2 := time.Now()
			m.Ping(ctx)
			t3 := time.Now()
			tr, tc, tp = append(tr, t1.Sub(t0)), append(tc, t2.Sub(t1)), append(tp, t3.Sub(t2))
		}
		t.Logf("%v: reset %v call %v ping-after %v stats %+v snap pages %d", mode, med(tr), med(tc), med(tp), st, s.Pages())
		m.Close()
	}
}
