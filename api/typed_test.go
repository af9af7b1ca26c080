package api

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every signature Func calls without reflection gives the results the reflective path gives,
// for random arguments (and passes context, memory and errors through alike).
func TestFuncDirectSameAsReflect(t *testing.T) {
	type key struct{}
	errBoom := errors.New("boom")
	var seen []any
	rec := func(v ...any) { seen = append(seen, fmt.Sprint(v...)) }
	fns := []any{
		func() { rec("()") },
		func() error { rec("() error"); return errBoom },
		func() int32 { return -7 },
		func(a int32) { rec(a) },
		func(a int32) int32 { return a*3 - 1 },
		func(a, b int32) int32 { return a - b },
		func(a uint32) { rec(a) },
		func(a uint32) uint32 { return a ^ 0xdeadbeef },
		func(a, b uint32) uint32 { return a*b + 1 },
		func(a int64) int64 { return -a },
		func(a, b int64) int64 { return a - 2*b },
		func(ctx context.Context, m Memory, a, b uint32) { rec(ctx.Value(key{}), m.Size(), a, b) },
		func(ctx context.Context, m Memory, a, b uint32) uint32 { return a + b + uint32(m.Size()) },
		func(ctx context.Context, m Memory, a, b uint32) error {
			if a > b {
				return errBoom
			}
			return nil
		},
	}
	mem := ByteMemory(make([]byte, 100))
	ctx := context.WithValue(context.Background(), key{}, "v")
	r := rand.New(rand.NewPCG(1, 2))
	for i, fn := range fns {
		if direct(fn) == nil {
			t.Fatalf("fn %d (%T) has no direct path", i, fn)
		}
		d, err := makeFunc("m", "f", fn, true)
		if err != nil {
			t.Fatal(err)
		}
		refl, err := makeFunc("m", "f", fn, false)
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			args := []uint64{r.Uint64(), r.Uint64(), r.Uint64()}
			if r.IntN(4) == 0 {
				args[0], args[1] = uint64(r.Uint32()), uint64(r.Uint32()) // upper bits clear too
			}
			s1, s2 := slices.Clone(args), slices.Clone(args)
			seen = nil
			e1 := d.Fn(ctx, mem, s1)
			seen1 := seen
			seen = nil
			e2 := refl.Fn(ctx, mem, s2)
			if !errors.Is(e1, e2) && (e1 != nil || e2 != nil) || !slices.Equal(seen1, seen) {
				t.Fatalf("fn %d (%T) %v: direct %v %v, reflect %v %v", i, fn, args, e1, seen1, e2, seen)
			}
			n := len(d.ResultTypes)
			if !slices.Equal(s1[:n], s2[:n]) {
				t.Fatalf("fn %d (%T) %v: direct results %v, reflect %v", i, fn, args, s1[:n], s2[:n])
			}
		}
	}
}
