package machine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

func requireKVM(t testing.TB) *vmm.KVM {
	t.Helper()
	k, err := vmm.Open()
	if err != nil {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// loadBench defines the bench module's host import (env.add) and loads it.
func loadBench(ctx context.Context, m *Machine) (uint32, error) {
	f := bench.HostAdd
	if err := m.DefineHost(ctx, []api.HostFunction{f}); err != nil {
		return 0, err
	}
	return m.Load(ctx, bench.Module)
}

// Export indices of bench.Module: 0 memory, 1 add, 2 dirty.
const benchAdd, benchDirty = 1, 2

func TestSnapshotFileRoundTrip(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	m, err := New(ctx, Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inst, err := loadBench(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Snapshot(ctx, ResetCompare)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bench.snap")
	var buf bytes.Buffer
	if err := m.WriteSnapshot(&buf, s, []byte("payload"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sf, err := OpenSnapshotFile(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	if string(sf.Payload) != "payload" {
		t.Fatalf("payload %q", sf.Payload)
	}
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		m2, snap, err := NewFromSnapshot(ctx, Config{KVM: k}, sf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := m2.Call(ctx, inst, benchAdd, []uint64{40, 2}, 1)
		t.Logf("start from file + first call: %v", time.Since(t0))
		if err != nil || r[0] != 42 {
			t.Fatalf("call after start from file: %v %v", r, err)
		}
		if _, err := m2.Call(ctx, inst, benchDirty, []uint64{3}, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := m2.Reset(ctx, snap); err != nil {
			t.Fatal(err)
		}
		if r, err = m2.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1); err != nil || r[0] != 3 {
			t.Fatalf("after reset: %v %v", r, err)
		}
		m2.Close()
	}
}

func TestSnapshotFileRefusesBadFiles(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	m, err := New(ctx, Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := loadBench(ctx, m); err != nil {
		t.Fatal(err)
	}
	s, err := m.Snapshot(ctx, ResetCompare)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteSnapshot(&buf, s, nil, nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dir := t.TempDir()
	try := func(name string, b []byte, image []byte, want error) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		sf, err := OpenSnapshotFile(p, image, nil)
		if err == nil {
			sf.Close()
			t.Fatalf("%s: accepted", name)
		}
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
		t.Logf("%s: %v", name, err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	try("flipped", flipped, nil, ErrSnapshotCorrupt)
	for _, n := range []int{0, 7, 100, len(good) / 2, len(good) - 1} {
		try("truncated", good[:n], nil, ErrSnapshotCorrupt)
	}
	try("foreign", good, []byte("another guest image"), ErrSnapshotForeign)
	try("not a snapshot", bench.Module, nil, ErrSnapshotCorrupt)
}

// TestSnapshotToMemory: a snapshot taken straight into an in-memory file and one copied there
// afterwards (MemorySnapshot) both read their pages from the file, reset the origin machine to
// the snapshot state, and start machines from the file in that state; the file outlives its
// owner's Close while a machine still uses it.
func TestSnapshotToMemory(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	for _, direct := range []bool{true, false} {
		m, inst := benchMachineNoSnapshot(t, Config{KVM: k})
		var s *Snapshot
		var sf *SnapshotFile
		var err error
		if direct {
			s, sf, err = m.SnapshotToMemory(ctx)
		} else if s, err = m.Snapshot(ctx, ResetCompare); err == nil {
			if s.own == nil {
				t.Fatal("Snapshot made no copy of its own")
			}
			sf, err = m.MemorySnapshot(s)
		}
		if err != nil {
			t.Fatal(err)
		}
		if s.own != nil || s.backing == nil || &s.data[0] != &sf.data[0] {
			t.Fatalf("direct %v: the snapshot does not read its pages from the file", direct)
		}
		want := slices.Clone(m.Mem()[abi.MailboxAddr : abi.MailboxAddr+pageSize])
		for round := 0; round < 3; round++ {
			if _, err := m.Call(ctx, inst, benchDirty, []uint64{8}, 1); err != nil {
				t.Fatal(err)
			}
			st, err := m.Reset(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if st.Restored+st.Cleared < 8 {
				t.Fatalf("direct %v: reset restored %+v after dirtying 8 pages", direct, st)
			}
			if !bytes.Equal(want, m.Mem()[abi.MailboxAddr:abi.MailboxAddr+pageSize]) {
				t.Fatalf("direct %v: the mailbox differs from the snapshot after a reset", direct)
			}
		}
		m2, snap2, err := NewFromSnapshot(ctx, Config{KVM: k}, sf)
		if err != nil {
			t.Fatal(err)
		}
		if err := sf.Close(); err != nil { // the owner lets go; both machines keep it open
			t.Fatal(err)
		}
		for _, mm := range []*Machine{m, m2} {
			if r, err := mm.Call(ctx, inst, benchAdd, []uint64{40, 2}, 1); err != nil || r[0] != 42 {
				t.Fatalf("direct %v: add: %v %v", direct, r, err)
			}
		}
		if _, err := m2.Reset(ctx, snap2); err != nil {
			t.Fatal(err)
		}
		m2.Close()
		if _, err := m.Reset(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}
