package machine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// FuzzSnapshotFile feeds mutated snapshot files to the loader. The checksum, ABI version and
// image hash are recomputed after mutation so that mutations reach the semantic checks. A file
// that is accepted boots a machine that makes a call, resets and calls again under a short
// deadline: errors are fine, panics and host crashes are not. Run it with
// -fuzzminimizetime=0: minimizing a 60 KB input boots thousands of machines, during which the
// fuzzer reports no progress.
//
// The committed seed testdata/fuzz/FuzzSnapshotFile/real is a real file
// (HLWASM_WRITE_FUZZ_SEED=1 go test -run TestWriteSnapshotFuzzSeed rewrites it); with KVM a
// fresh one is added too, so the seeds stay current when the guest image changes.
func FuzzSnapshotFile(f *testing.F) {
	k, err := vmm.Open()
	if err == nil {
		f.Cleanup(func() { k.Close() })
		m, s, inst := benchSnapshot(f, k)
		f.Add(snapBytes(f, m, s, inst, nil))
	} else if os.Getenv("HLWASM_SKIP_KVM") != "1" {
		f.Fatal(err)
	}
	image := defaultImage()
	imgSum := sha256.Sum256(image)
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.Clone(b) // the engine's input must not be modified
		const sumOff = len(snapMagic) + 12
		if len(b) >= sumOff+sha256.Size {
			binary.LittleEndian.PutUint32(b[len(snapMagic)+8:], abi.Version)
			copy(b[sumOff:], imgSum[:])
		}
		resum(b)
		p := filepath.Join(t.TempDir(), "f.snap")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sf, err := OpenSnapshotFile(p, image, nil)
		if err != nil {
			if !errors.Is(err, ErrSnapshotCorrupt) && !errors.Is(err, ErrSnapshotForeign) {
				t.Fatalf("refused without a sentinel: %v", err)
			}
			return
		}
		defer sf.Close()
		if k == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		m, snap, err := NewFromSnapshot(ctx, Config{KVM: k}, sf)
		if err != nil {
			return
		}
		defer m.Close()
		var inst uint32
		if len(sf.Payload) >= 4 {
			inst = binary.LittleEndian.Uint32(sf.Payload)
		}
		m.Call(ctx, inst, benchAdd, []uint64{40, 2}, 1)
		if _, err := m.Reset(ctx, snap); err != nil {
			return
		}
		m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1)
	})
}

// TestWriteSnapshotFuzzSeed rewrites the committed real seed of FuzzSnapshotFile when
// HLWASM_WRITE_FUZZ_SEED=1 (after a guest image or format change: FuzzSnapshotFile adds a
// fresh seed itself when KVM is there, so a stale one only loses reach).
func TestWriteSnapshotFuzzSeed(t *testing.T) {
	path := filepath.Join("testdata", "fuzz", "FuzzSnapshotFile", "real")
	if os.Getenv("HLWASM_WRITE_FUZZ_SEED") == "1" {
		m, s, inst := benchSnapshot(t, requireKVM(t))
		b := snapBytes(t, m, s, inst, nil)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes of snapshot)", path, len(b))
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
