package machine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// A reset does not set the x87/SSE state (no KVM_SET_FPU): the guest reloads a clean one where
// it resumes from every park. So vector registers a call filled (simdleft.wasm's 0x5a bytes)
// must not be found in the vCPU after a reset and a call that uses no vector code; before the
// reset they are there (else this test could not fail). Both tiers; also from a snapshot file.
func TestResetClearsVectorRegisters(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	wasm, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", "simdleft.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pattern := bytes.Repeat([]byte{0x5a}, 16)
	for _, tier := range []uint32{abi.TierInterp, abi.TierCompiled} {
		m, err := New(ctx, Config{KVM: k, Tier: tier})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		inst, err := m.Load(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Snapshot(ctx, ResetCompare)
		if err != nil {
			t.Fatal(err)
		}
		const leave, nop = 0, 1 // export indices
		fpu := func() []byte {
			t.Helper()
			if err := m.park(ctx); err != nil {
				t.Fatal(err)
			}
			regs, err := m.cpu.VectorRegisters()
			if err != nil {
				t.Fatal(err)
			}
			var b []byte
			for _, r := range regs {
				b = append(b, r[:]...)
			}
			return b
		}
		for round := 0; round < 3; round++ {
			if r, err := m.Call(ctx, inst, leave, nil, 1); err != nil || r[0] != 0x5a {
				t.Fatalf("tier %d: leave: %v %v", tier, r, err)
			}
			if !bytes.Contains(fpu(), pattern) {
				t.Fatalf("tier %d: the call left no 0x5a vector in the registers: the test proves nothing", tier)
			}
			if _, err := m.Reset(ctx, s); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Call(ctx, inst, nop, nil, 1); err != nil {
				t.Fatal(err)
			}
			if f := fpu(); bytes.Contains(f, pattern) {
				t.Logf("XMM0-15: % x", f)
				t.Fatalf("tier %d round %d: a vector register still holds the previous call's bytes after a reset", tier, round)
			}
		}
	}
}
