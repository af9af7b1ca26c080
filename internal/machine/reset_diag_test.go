package machine

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

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
		inst, err := loadBench(ctx, m)
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

func TestColdDiag(t *testing.T) {
	if os.Getenv("HLWASM_DIAG") == "" {
		t.Skip("diagnostic: set HLWASM_DIAG=1")
	}
	k, _ := vmm.Open()
	ctx := context.Background()
	var tn, tl, ts, tc []time.Duration
	for i := 0; i < 30; i++ {
		t0 := time.Now()
		m, err := New(ctx, Config{KVM: k})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		inst, err := loadBench(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		if _, err := m.Snapshot(ctx, ResetCompare); err != nil {
			t.Fatal(err)
		}
		t3 := time.Now()
		if _, err := m.Call(ctx, inst, 1, []uint64{1, 2}, 1); err != nil {
			t.Fatal(err)
		}
		t4 := time.Now()
		tn, tl, ts, tc = append(tn, t1.Sub(t0)), append(tl, t2.Sub(t1)), append(ts, t3.Sub(t2)), append(tc, t4.Sub(t3))
		m.Close()
	}
	t.Logf("new %v boot+load %v snapshot %v first call %v", med(tn), med(tl), med(ts), med(tc))
}
