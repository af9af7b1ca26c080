package machine

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// simdMul is (func (export "f") (param v128 v128) (result v128) (i32x4.mul (local.get 0)
// (local.get 1))): the compile tier emits SSE4.1's pmulld for it when the guest's CPUID has
// SSE4.1, a call into the engine's C code otherwise.
var simdMul = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128) -> v128
	0x03, 0x02, 0x01, 0x00, // func 0: type 0
	0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00, // export "f"
	0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0xb5, 0x01, 0x0b,
}

var pmulld = []byte{0x66, 0x0f, 0x38, 0x40} // pmulld xmm, xmm/m128

// pmulldCount loads simdMul on a machine of k and counts pmulld encodings in the code it
// compiled; the machine and its snapshot are returned for writing a file.
func pmulldCount(t *testing.T, k *vmm.KVM) (int, *Machine, *Snapshot) {
	t.Helper()
	ctx := context.Background()
	m, err := New(ctx, Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.Load(ctx, simdMul); err != nil {
		t.Fatal(err)
	}
	s, err := m.Snapshot(ctx, ResetCompare)
	if err != nil {
		t.Fatal(err)
	}
	code, used := m.get64(abi.MbCodeAddr), m.get64(abi.MbStatCodeUsed)
	if used == 0 || code+used > uint64(len(m.mem)) {
		t.Fatalf("code region [%#x, +%#x) in %d bytes of guest memory", code, used, len(m.mem))
	}
	return bytes.Count(m.mem[code:code+used], pmulld), m, s
}

// TestSnapshotFileCPUFeatures: a snapshot file records the CPU features its guest's compiled
// code uses (the guest's own report: its code has pmulld exactly when it reports SSE4.1), and a
// machine whose guest lacks one refuses the file. The older CPU is a second KVM handle whose
// guest probe result is set by the test (on PVM a CPL3 guest's CPUID is the real CPU's, so
// KVM_SET_CPUID2 cannot hide a feature from it).
func TestSnapshotFileCPUFeatures(t *testing.T) {
	k := requireKVM(t)
	have, err := guestCPUFeatures(context.Background(), Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guest reports %#x (%s)", have, cpuFeatureNames(have))
	if have&abi.CPUFeatSSE41 == 0 {
		t.Skip("this guest has no SSE4.1: nothing to take away")
	}
	older, err := vmm.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { older.Close() })
	if _, err := older.Memo(guestFeaturesMemo, func() (any, error) { // an SSSE3-only CPU
		return have &^ (abi.CPUFeatSSE41 | abi.CPUFeatSSE42), nil
	}); err != nil {
		t.Fatal(err)
	}

	n, full, fullSnap := pmulldCount(t, k)
	if n == 0 {
		t.Fatal("the guest reports SSE4.1 but the compile tier emitted no pmulld for i32x4.mul")
	}

	write := func(m *Machine, s *Snapshot, name string) *SnapshotFile {
		var b bytes.Buffer
		if err := m.WriteSnapshot(&b, s, nil, nil); err != nil {
			t.Fatal(err)
		}
		path := writeTemp(t, t.TempDir(), b.Bytes())
		sf, err := OpenSnapshotFile(path, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { sf.Close() })
		return sf
	}
	ctx := context.Background()
	// Made with SSE4.1, started where the guest has none: refused, naming what is missing.
	_, _, err = NewFromSnapshot(ctx, Config{KVM: older}, write(full, fullSnap, "full"))
	if !errors.Is(err, ErrSnapshotForeign) || !bytes.Contains([]byte(err.Error()), []byte("SSE4.1")) {
		t.Fatalf("file made with SSE4.1 on a guest without it: %v", err)
	}
	// Made without (a file whose guest reported SSSE3 only), started on the full CPU: fine,
	// and a snapshot of that machine still records the older features (its guest keeps what
	// it probed), so it too goes back.
	_, old, oldSnap := pmulldCount(t, k)
	old.cpuFeatures = have &^ (abi.CPUFeatSSE41 | abi.CPUFeatSSE42)
	oldFile := write(old, oldSnap, "older")
	m, s, err := NewFromSnapshot(ctx, Config{KVM: k}, oldFile)
	if err != nil {
		t.Fatalf("file made without SSE4.1 on a guest with it: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	again := write(m, s, "again")
	m2, _, err := NewFromSnapshot(ctx, Config{KVM: older}, again)
	if err != nil {
		t.Fatalf("re-snapshot of an older file on the older CPU: %v", err)
	}
	m2.Close()

	// A feature field with bits the guest never reports is refused as corrupt.
	old.cpuFeatures = 1
	var b bytes.Buffer
	if err := old.WriteSnapshot(&b, oldSnap, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSnapshotFile(writeTemp(t, t.TempDir(), b.Bytes()), nil, nil); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("CPU feature bits outside abi.CPUFeatUsed: %v", err)
	}
}
