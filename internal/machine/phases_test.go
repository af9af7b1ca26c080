package machine

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// TestColdBreakdown prints where a cold sandbox's time goes — a machine started from a
// module's in-memory snapshot file (what every sandbox but a module's first is) to its first
// result — phase by phase, beside the raw floor (bench.FloorCreate) and the bare VM creation,
// with the guest pages the first call touches (each a shadow-page fault on PVM). It asserts
// nothing about time; it fails only if a phase fails. `go test -run ColdBreakdown -v`.
func TestColdBreakdown(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	m, inst, s := benchMachine(t, Config{KVM: k})
	sf, err := m.MemorySnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	cfg := Config{KVM: k}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	const rounds = 15
	phases := map[string][]time.Duration{}
	var order []string
	add := func(name string, d time.Duration) {
		if _, ok := phases[name]; !ok {
			order = append(order, name)
		}
		phases[name] = append(phases[name], d)
	}
	floor, _, err := bench.FloorCreate(k, rounds)
	if err != nil {
		t.Fatal(err)
	}
	for range rounds {
		t0 := time.Now()
		vm, err := k.NewVM(cfg.MemoryBytes, roundUp(abi.XferAddr+cfg.XferBytes+hugePage, vmm.SlotChunk), cfg.Thread)
		if err != nil {
			t.Fatal(err)
		}
		add("(bare NewVM: VM, memory, first slot, vCPU)", time.Since(t0))
		t1 := time.Now()
		im, err := parseImage(cfg.Image)
		if err != nil {
			t.Fatal(err)
		}
		writeLayout(vm.Mem(), im, abi.XferAddr+cfg.XferBytes, abi.XferAddr+cfg.XferBytes, cfg.CodeBytes)
		add("(part of new machine: layout writing)", time.Since(t1))
		t2 := time.Now()
		if err := vm.VCPU().EnterUserMode(abi.PML4Addr, abi.GDTAddr, abi.IDTAddr, abi.TSSAddr, abi.TSSLimit,
			im.entry, abi.UStackTop); err != nil {
			t.Fatal(err)
		}
		add("(part of new machine: registers set)", time.Since(t2))
		vm.Close()
	}
	var touched []int
	var where string
	kvmCounts := map[string][][2]uint64{} // KVM's own counters (vmm.VCPU.KVMStats): first, second call
	for range rounds {
		last := time.Now()
		start := last
		phaseMark = func(p string) {
			now := time.Now()
			add(p, now.Sub(last))
			last = now
		}
		m2, _, err := NewFromSnapshot(ctx, cfg, sf)
		phaseMark = nil
		if err != nil {
			t.Fatal(err)
		}
		started := last.Sub(start)
		m2.BindHostFuncs([]api.HostFunction{bench.HostAdd})
		before := presentPages(t, m2.mem)
		st0, _ := m2.cpu.KVMStats()
		t1 := time.Now()
		if r, err := m2.Call(ctx, inst, benchAdd, []uint64{40, 2}, 1); err != nil || r[0] != 42 {
			t.Fatalf("first call: %v %v", r, err)
		}
		first := time.Since(t1)
		st1, _ := m2.cpu.KVMStats()
		add("first call", first)
		add("= cold total", started+first)
		after := presentPages(t, m2.mem)
		count := map[string]int{}
		for p := range after {
			if !before[p] {
				count[region(p, abi.XferAddr+cfg.XferBytes)]++
			}
		}
		touched = append(touched, len(after)-len(before))
		where = fmt.Sprint(count)
		t2 := time.Now()
		if _, err := m2.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1); err != nil {
			t.Fatal(err)
		}
		add("(second call, for comparison)", time.Since(t2))
		st2, _ := m2.cpu.KVMStats()
		for _, c := range []string{"exits", "pf_taken"} {
			kvmCounts[c] = append(kvmCounts[c], [2]uint64{st1[c] - st0[c], st2[c] - st1[c]})
		}
		t3 := time.Now()
		m2.Close()
		add("(close, not in the total)", time.Since(t3))
	}
	med := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	var b strings.Builder
	fl := med(floor)
	fmt.Fprintf(&b, "cold sandbox from a snapshot file, medians of %d (machine may be loaded):\n", rounds)
	fmt.Fprintf(&b, "  %-44s %10v\n", "floor-create (flat VM to first exit)", fl)
	for _, p := range order {
		fmt.Fprintf(&b, "  %-44s %10v\n", p, med(phases[p]))
	}
	slices.Sort(touched)
	fmt.Fprintf(&b, "  pages first present after the first call: %d (median; last round by region: %s)\n", touched[len(touched)/2], where)
	for _, c := range []string{"exits", "pf_taken"} {
		if v := kvmCounts[c]; len(v) > 0 {
			slices.SortFunc(v, func(a, b [2]uint64) int { return int(a[0]) - int(b[0]) })
			fmt.Fprintf(&b, "  KVM %-8s first call %d, second %d (median round; pf_taken: guest page faults KVM handled, shadow faults on PVM)\n", c, v[len(v)/2][0], v[len(v)/2][1])
		}
	}
	fmt.Fprintf(&b, "  cold / floor-create = %.2fx\n", float64(med(phases["= cold total"]))/float64(fl))
	t.Log("\n" + b.String())
}

// presentPages lists the pages of b present in this process's page tables (pagemap bit 63).
func presentPages(t *testing.T, b []byte) map[int]bool {
	t.Helper()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("pagemap: %v", err)
	}
	defer f.Close()
	base := uintptr(unsafe.Pointer(&b[0])) / pageSize
	buf := make([]byte, 8*4096)
	set := map[int]bool{}
	for p := 0; p < len(b)/pageSize; p += 4096 {
		c := min(4096, len(b)/pageSize-p)
		if _, err := f.ReadAt(buf[:8*c], int64(base+uintptr(p))*8); err != nil {
			t.Fatal(err)
		}
		for i := range c {
			if binary.LittleEndian.Uint64(buf[8*i:])>>63 == 1 {
				set[p+i] = true
			}
		}
	}
	return set
}

// region names the part of the guest layout guest page p is in.
func region(p int, heap uint64) string {
	a := uint64(p) * pageSize
	switch {
	case a < abi.MailboxAddr:
		return "layout"
	case a < abi.ImageBase:
		return "mailbox"
	case a < abi.UStackBase:
		return "image"
	case a < abi.UStackTop:
		return "stack"
	case a < heap:
		return "xfer"
	}
	return "heap"
}
