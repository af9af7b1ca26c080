package wit

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

// Lifting arbitrary bytes at arbitrary pointers never panics and fails only with ErrTrap;
// what lifts successfully lowers back to the same bytes' meaning (round trip through a
// fresh memory).
func TestLiftRandomMemory(t *testing.T) {
	w, err := LoadFile("../tests/testdata/wit/rt.wit", "rt")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	mem := make(api.ByteMemory, 1<<12)
	var ok, traps int
	for _, f := range w.Exports {
		if f.Result == nil {
			continue
		}
		ty := f.Result
		for range 300 {
			for i := range mem {
				// mostly small numbers, so pointers and lengths are often in range
				if rng.IntN(4) == 0 {
					mem[i] = byte(rng.Uint32())
				} else {
					mem[i] = byte(rng.IntN(3))
				}
			}
			ptr := uint32(rng.IntN(1<<12 + 64))
			if rng.IntN(2) == 0 {
				ptr &^= 7
			}
			c := newCx(context.Background(), mem, nil, &Options{MaxBytes: 1 << 12})
			v, err := c.load(ty, ptr)
			if err != nil {
				if !errors.Is(err, ErrTrap) {
					t.Fatalf("%s: non-trap error %v", ty, err)
				}
				traps++
				continue
			}
			ok++
			if _, err := conform(ty, v); err != nil {
				t.Fatalf("%s: lifted value does not conform: %v", ty, err)
			}
			// flat lifting of random core values
			flat := make([]uint64, len(ty.flat))
			for i := range flat {
				flat[i] = uint64(rng.IntN(1 << 13))
			}
			if _, err := c.liftFlat(ty, flat); err != nil && !errors.Is(err, ErrTrap) {
				t.Fatalf("%s: flat: non-trap error %v", ty, err)
			}
		}
	}
	t.Logf("%d values lifted, %d traps", ok, traps)
	if ok == 0 || traps == 0 {
		t.Fatal("random test exercised only one outcome")
	}
}

// Lowering into a memory whose realloc is an in-Go bump allocator, then lifting, gives back
// the value, for every round-trip case's type.
func TestLowerLiftInGo(t *testing.T) {
	w, err := LoadFile("../tests/testdata/wit/rt.wit", "rt")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"echo-mixed":     `{a: 200, b: 18446744073709551615, c: "mixed", d: 2.5, e: true}`,
		"echo-shapes":    `[circle(-0.5), empty, label("x"), rect({x: 0, y: 0}), big(1)]`,
		"echo-nested":    `[[1, 2, 3], [], [65535]]`,
		"echo-opt-opt":   `some(none)`,
		"echo-res-float": `err(-2.5)`,
		"echo-many":      `{b0, b31}`,
	}
	for name, wave := range cases {
		f, err := w.Func("guest#"+name, true)
		if err != nil {
			t.Fatal(err)
		}
		ty := f.Result
		v, err := ParseWAVE(ty, wave)
		if err != nil {
			t.Fatal(err)
		}
		mem := make(api.ByteMemory, 1<<16)
		c := newCx(context.Background(), mem, &bump{mem: mem, next: 64}, nil)
		if err := c.store(ty, v, 8); err != nil {
			t.Fatal(name, err)
		}
		back, err := c.load(ty, 8)
		if err != nil {
			t.Fatal(name, err)
		}
		got, _ := FormatWAVE(ty, back)
		if got != wave {
			t.Fatalf("%s: %s != %s", name, got, wave)
		}
		flat, err := c.lowerFlat(ty, v, nil)
		if err != nil {
			t.Fatal(name, err)
		}
		back, err = c.liftFlat(ty, flat)
		if err != nil {
			t.Fatal(name, err)
		}
		got, _ = FormatWAVE(ty, back)
		if got != wave {
			t.Fatalf("%s flat: %s != %s", name, got, wave)
		}
	}
}

type bump struct {
	mem  api.ByteMemory
	next uint32
}

func (b *bump) Memory() api.Memory { return b.mem }
func (b *bump) Call(_ context.Context, name string, p ...uint64) ([]uint64, error) {
	align, size := uint32(p[2]), uint32(p[3])
	b.next = alignTo(b.next, align)
	ptr := b.next
	b.next += size
	return []uint64{uint64(ptr)}, nil
}
