package wit

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

// liftAlloc lifts a list of type t from [0, n) of mem with the default budget and returns the
// value and the bytes the Go heap allocated meanwhile.
func liftAlloc(t *testing.T, c *cx, ty *Type, n uint32) (Value, uint64, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := c.liftFlat(ty, []uint64{0, uint64(n)})
	runtime.ReadMemStats(&after)
	return v, after.TotalAlloc - before.TotalAlloc, err
}

// The lift budget (Options.MaxBytes) bounds the host memory lifted values take, not just
// their bytes in guest memory: a 16 MiB list<u8> takes ~16 MiB (it used to be a List of 16M
// interfaces, 256 MiB), and lists of other types are charged by their Go size.
func TestLiftBudgetBoundsHostMemory(t *testing.T) {
	w, err := Load(strings.NewReader(`package t:b;
world w { export f: func(a: list<u8>, b: list<u32>); }`), "")
	if err != nil {
		t.Fatal(err)
	}
	bytesT, u32s := w.Exports[0].Params[0].Type, w.Exports[0].Params[1].Type
	const limit = DefaultMaxBytes
	mem := make(api.ByteMemory, limit+4096)
	for i := range mem {
		mem[i] = byte(i * 7)
	}
	ctx := context.Background()

	v, alloc, err := liftAlloc(t, newCx(ctx, mem, nil, nil), bytesT, limit)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := v.([]byte); !ok || !bytes.Equal(b, mem[:limit]) {
		t.Fatalf("16 MiB list<u8> lifted as %T", v)
	}
	t.Logf("16 MiB list<u8>: %d bytes allocated", alloc)
	if alloc > 2*limit {
		t.Fatalf("lifting a 16 MiB list<u8> allocated %d bytes", alloc)
	}
	if _, _, err := liftAlloc(t, newCx(ctx, mem, nil, nil), bytesT, limit+1); !errors.Is(err, ErrLimit) {
		t.Fatalf("list<u8> over the limit: %v, want ErrLimit", err)
	}
	// One budget per call: a second list that fits alone does not fit after the first.
	c := newCx(ctx, mem, nil, nil)
	if _, _, err := liftAlloc(t, c, bytesT, limit/2+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := liftAlloc(t, c, bytesT, limit/2); !errors.Is(err, ErrLimit) {
		t.Fatalf("second list<u8> past the call's budget: %v, want ErrLimit", err)
	}

	// list<u32>: 4 guest bytes, but a 16-byte interface and an 8-byte box on the host.
	n := uint32(limit / 4 / 4) // 4 MiB in guest memory
	v, alloc, err = liftAlloc(t, newCx(ctx, mem, nil, nil), u32s, n/2)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := v.(List); !ok || len(l) != int(n/2) {
		t.Fatalf("list<u32> lifted as %T", v)
	}
	t.Logf("%d-element list<u32>: %d bytes allocated", n/2, alloc)
	if alloc > limit {
		t.Fatalf("a list<u32> within the budget allocated %d bytes, over the limit %d", alloc, limit)
	}
	if _, alloc, err = liftAlloc(t, newCx(ctx, mem, nil, nil), u32s, n); !errors.Is(err, ErrLimit) || alloc > 1<<20 {
		t.Fatalf("4 MiB list<u32> (24 MiB on the host): %v after %d bytes, want ErrLimit before allocating", err, alloc)
	}
}
