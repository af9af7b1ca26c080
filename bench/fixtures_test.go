package bench

// Reference behaviour of the fixtures in tests/testdata on every engine in engines: what a
// correct engine returns for arith.wasm and c_basic.wasm, which trap each traps.wasm export
// raises, and that every tests/testdata/malformed binary is rejected. wazero passes all of it,
// so these double as a check of the fixtures themselves.

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testdata = "../tests/testdata"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func load(t *testing.T, e engine, wasm []byte) instance {
	t.Helper()
	ctx := context.Background()
	inst, err := e.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(ctx) })
	return inst
}

type call struct {
	fn   string
	args []uint64
	want []uint64
}

func checkCalls(t *testing.T, inst instance, calls []call) {
	t.Helper()
	for _, c := range calls {
		got, err := inst.Call(context.Background(), c.fn, c.args...)
		if err != nil {
			t.Errorf("%s%v: %v", c.fn, c.args, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s%v = %#x, want %#x", c.fn, c.args, got, c.want)
		}
	}
}

func f32(v float32) uint64 { return uint64(math.Float32bits(v)) }
func f64(v float64) uint64 { return math.Float64bits(v) }
func i32(v int32) uint64   { return uint64(uint32(v)) }
func i64(v int64) uint64   { return uint64(v) }

func TestFixtureArith(t *testing.T) {
	wasm := readFixture(t, "arith.wasm")
	fac := func(n uint64) uint64 { // wraps modulo 2^64 like i64.mul
		r := uint64(1)
		for ; n > 1; n-- {
			r *= n
		}
		return r
	}
	forEachEngine(t, func(t *testing.T, e engine) {
		inst := load(t, e, wasm)
		checkCalls(t, inst, []call{
			{"i32_add", []uint64{i32(2), i32(3)}, []uint64{5}},
			{"i32_add", []uint64{i32(math.MaxInt32), i32(1)}, []uint64{i32(math.MinInt32)}},
			{"i32_sub", []uint64{i32(1), i32(2)}, []uint64{i32(-1)}},
			{"i32_mul", []uint64{i32(-7), i32(6)}, []uint64{i32(-42)}},
			{"i64_add", []uint64{i64(1 << 40), i64(1)}, []uint64{i64(1<<40 + 1)}},
			{"i64_sub", []uint64{i64(0), i64(1)}, []uint64{i64(-1)}},
			{"i64_mul", []uint64{i64(1 << 32), i64(1 << 32)}, []uint64{0}},
			{"f32_add", []uint64{f32(1.5), f32(2.25)}, []uint64{f32(3.75)}},
			{"f32_sub", []uint64{f32(1), f32(0.125)}, []uint64{f32(0.875)}},
			{"f32_mul", []uint64{f32(3), f32(-0.5)}, []uint64{f32(-1.5)}},
			{"f64_add", []uint64{f64(0.1), f64(0.2)}, []uint64{0x3fd3333333333334}}, // 0.30000000000000004
			{"f64_sub", []uint64{f64(1e300), f64(-1e300)}, []uint64{f64(2e300)}},
			{"f64_mul", []uint64{f64(1e200), f64(1e200)}, []uint64{f64(math.Inf(1))}},
			{"divmod", []uint64{17, 5}, []uint64{3, 2}},
			{"swap", []uint64{i64(-7), f64(2.5)}, []uint64{f64(2.5), i64(-7)}},
			{"triple", []uint64{5}, []uint64{6, 10, 5 << 32}},
			{"fac_rec", []uint64{20}, []uint64{2432902008176640000}},
			{"fac_iter", []uint64{20}, []uint64{2432902008176640000}},
			{"fac_rec", []uint64{25}, []uint64{fac(25)}},
			{"fac_iter", []uint64{25}, []uint64{fac(25)}},
			{"fac_iter", []uint64{0}, []uint64{1}},
			// State persists across calls on one instance ...
			{"incr", nil, []uint64{1}},
			{"incr", nil, []uint64{2}},
			{"incr", nil, []uint64{3}},
			{"cell", nil, []uint64{3}},
		})
		// ... and a fresh instance starts from scratch.
		checkCalls(t, load(t, e, wasm), []call{{"incr", nil, []uint64{1}}, {"cell", nil, []uint64{1}}})
	})
}

func TestFixtureCBasic(t *testing.T) {
	wasm := readFixture(t, "c_basic.wasm")
	forEachEngine(t, func(t *testing.T, e engine) {
		checkCalls(t, load(t, e, wasm), []call{
			{"fib", []uint64{20}, []uint64{6765}},
			{"fib", []uint64{30}, []uint64{832040}},
			{"greeting_len", nil, []uint64{27}},
			{"sum_bytes", nil, []uint64{2357}},
			// Newton's iteration settles one ulp below the correctly rounded sqrt(2) (…3bcd).
			{"sqrt_newton", []uint64{f64(2)}, []uint64{0x3ff6a09e667f3bcc}},
			{"sqrt_newton", []uint64{f64(1 << 20)}, []uint64{f64(1 << 10)}},
			{"sqrt_newton", []uint64{f64(0)}, []uint64{f64(0)}},
			{"isqrt", []uint64{1000000}, []uint64{1000}},
			{"isqrt", []uint64{999999}, []uint64{999}},
			{"count_primes", []uint64{10000}, []uint64{1229}},
			{"count_primes", []uint64{100}, []uint64{25}},
			{"sum_squares_stack", []uint64{100}, []uint64{338350}},
		})
	})
}

// trapCases: export of traps.wasm -> acceptable error substrings: the spec's wording first (the
// message hlwasm's engine reports, wasmguest/include/abi.h HL_TRAP_MESSAGES), then wazero's
// where it differs.
var trapCases = []struct {
	fn   string
	msgs []string
}{
	{"unreachable", []string{"unreachable"}},
	{"oob_load", []string{"out of bounds memory access"}},
	{"oob_store", []string{"out of bounds memory access"}},
	{"oob_straddle", []string{"out of bounds memory access"}},
	{"div_zero", []string{"integer divide by zero"}},
	{"rem_zero_i64", []string{"integer divide by zero"}},
	{"div_overflow", []string{"integer overflow"}},
	{"trunc_nan", []string{"invalid conversion to integer"}},
	{"trunc_overflow", []string{"integer overflow"}},
	{"indirect_type_mismatch", []string{"indirect call type mismatch"}},
	{"indirect_undefined", []string{"undefined element", "invalid table access"}},
	{"indirect_null", []string{"uninitialized element", "invalid table access"}},
	{"stack_overflow", []string{"call stack exhausted", "stack overflow"}},
}

func TestFixtureTraps(t *testing.T) {
	wasm := readFixture(t, "traps.wasm")
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, e engine) {
		inst := load(t, e, wasm) // one instance for all traps: it must survive each of them
		for _, c := range trapCases {
			res, err := inst.Call(ctx, c.fn)
			if err == nil {
				t.Errorf("%s() = %v, want trap %q", c.fn, res, c.msgs[0])
				continue
			}
			if !slices.ContainsFunc(c.msgs, func(m string) bool { return strings.Contains(err.Error(), m) }) {
				t.Errorf("%s(): error %q, want one of %q", c.fn, err, c.msgs)
			}
			checkCalls(t, inst, []call{{"indirect_ok", []uint64{5}, []uint64{4}}})
		}
		checkCalls(t, inst, []call{
			{"size", nil, []uint64{1}},
			{"grow", []uint64{2}, []uint64{1}},
			{"size", nil, []uint64{3}},
			{"grow", []uint64{0}, []uint64{3}},
			{"grow", []uint64{0x10000}, []uint64{i32(-1)}}, // past 4 GiB: fails, no trap
			{"size", nil, []uint64{3}},
		})
		// oob_straddle traps at any size; oob_store no longer does after the grow.
		if _, err := inst.Call(ctx, "oob_straddle"); err == nil {
			t.Error("oob_straddle() after grow: no trap")
		}
	})
}

// TestFixtureSpin checks that a non-terminating export can be interrupted: by the context
// deadline on wazero (the hlwasm adapter must do the same, whatever its mechanism).
func TestFixtureSpin(t *testing.T) {
	wasm := readFixture(t, "traps.wasm")
	forEachEngine(t, func(t *testing.T, e engine) {
		if i, ok := e.(interruptible); !ok || !i.Interruptible() {
			t.Skip("engine cannot interrupt a running call")
		}
		for _, fn := range []string{"spin", "spin_count"} {
			inst := load(t, e, wasm)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			start := time.Now()
			_, err := inst.Call(ctx, fn)
			cancel()
			if err == nil {
				t.Fatalf("%s() returned", fn)
			}
			// No bound on the time asserted (flaky here): a loop the deadline missed hangs the test.
			t.Logf("%s(): %v after %v", fn, err, time.Since(start))
		}
	})
}

func TestFixtureMalformed(t *testing.T) {
	dir := filepath.Join(testdata, "malformed")
	files, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if err != nil || len(files) < 10 {
		t.Fatalf("malformed fixtures: %v, %d files", err, len(files))
	}
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, e engine) {
		for _, f := range files {
			wasm := readFixture(t, filepath.Join("malformed", filepath.Base(f)))
			inst, err := e.Load(ctx, wasm)
			if filepath.Base(f) == "valid_minimal.wasm" {
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(f), err)
				} else {
					checkCalls(t, inst, []call{{"f", nil, []uint64{}}})
					inst.Close(ctx)
				}
				continue
			}
			if err == nil {
				inst.Close(ctx)
				t.Errorf("%s: loaded, want an error", filepath.Base(f))
				continue
			}
			t.Logf("%s: %v", filepath.Base(f), firstLine(err))
		}
	})
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestExampleGuests keeps examples/guests (and the embed example's copy of add.wasm) working.
func TestExampleGuests(t *testing.T) {
	add, err := os.ReadFile("../examples/guests/add.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if embedded, err := os.ReadFile("../examples/embed/add.wasm"); err != nil || string(embedded) != string(add) {
		t.Errorf("examples/embed/add.wasm differs from examples/guests/add.wasm (make examples-wasm): %v", err)
	}
	hello, err := os.ReadFile("../examples/guests/hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	forEachEngine(t, func(t *testing.T, e engine) {
		checkCalls(t, load(t, e, add), []call{
			{"add", []uint64{2, 3}, []uint64{5}},
			{"add", []uint64{i32(-1), 1}, []uint64{0}},
		})
		inst := load(t, e, hello)
		checkCalls(t, inst, []call{
			{"gcd", []uint64{48, 18}, []uint64{6}},
			{"gcd", []uint64{7, 0}, []uint64{7}},
			{"divide", []uint64{i32(-9), 2}, []uint64{i32(-4)}},
			{"greet_len", nil, []uint64{0}},
		})
		p, err := inst.Call(context.Background(), "greet", 7)
		if err != nil || len(p) != 1 || p[0] == 0 {
			t.Errorf("greet(7) = %v, %v", p, err)
		}
		checkCalls(t, inst, []call{{"greet_len", nil, []uint64{uint64(len("hello, guest #7!"))}}})
		if _, err := inst.Call(context.Background(), "divide", 1, 0); err == nil ||
			!strings.Contains(err.Error(), "integer divide by zero") {
			t.Errorf("divide(1, 0): %v, want trap integer divide by zero", err)
		}
	})
}
