package vmm

import (
	"os"
	"sort"
	"testing"
	"time"
)

func TestCreateDiag(t *testing.T) {
	if os.Getenv("HLWASM_DIAG") == "" {
		t.Skip("diagnostic")
	}
	k := requireKVM(t)
	for _, size := range []uint64{64 << 20, 1100 << 20, 4 << 30} {
		var d []time.Duration
		for i := 0; i < 30; i++ {
			t0 := time.Now()
			vm, err := k.NewVM(size, 0)
			if err != nil {
				t.Fatal(err)
			}
			d = append(d, time.Since(t0))
			vm.Close()
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		t.Logf("NewVM(%d MiB) median %v", size>>20, d[len(d)/2])
	}
}
