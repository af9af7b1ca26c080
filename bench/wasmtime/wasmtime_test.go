// Package wasmtime runs the kernels of bench/ on Wasmtime (via cgo, wasmtime-go), for a
// native-JIT reference column next to wazero and hlwasm. It is a separate Go module so that cgo
// and the prebuilt libwasmtime stay out of the main module.
//
//	cd bench/wasmtime && go test -run '^$' -bench . -benchtime 1x
//
// Keep kernels in sync with bench/kernels.go (same parameters and checksums).
package wasmtime

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

type kernel struct {
	name      string
	args      []uint64
	want      uint64
	shortArgs []uint64
	shortWant uint64
}

var kernels = []kernel{
	{"fib", []uint64{30}, 832040, []uint64{20}, 6765},
	{"sha256", []uint64{16}, 0x36ab643e2c800ca5, []uint64{1}, 0x9d3b8f05a8d35b98},
	{"nbody", []uint64{200_000}, 0xbfc5a488fbe2eb1c, []uint64{1000}, 0xbfc5a4a9a3521fa9},
	{"qsort", []uint64{1_000_000, 1}, 0xba0b161bbf50263f, []uint64{10_000, 1}, 0xc2a99d9fc52c0445},
	{"gemm", []uint64{256}, 0x2668142a3f6d6df9, []uint64{32}, 0xd2e6c8e15d2cb560},
	{"simd", []uint64{500}, 0x1fba7767d078bb46, []uint64{2}, 0x688b126f2baa45ff},
}

// engines: plain Wasmtime (nothing can stop a running call: the best case), and with epoch
// interruption, the cheap mechanism a host uses to enforce deadlines (a check at function
// entries and loop back-edges), the like-for-like comparison with hlwasm and wazero-compiler-ctx.
var engines = []struct {
	name  string
	epoch bool
}{{"wasmtime", false}, {"wasmtime-epoch", true}}

func newEngine(epoch bool) *wasmtime.Engine {
	cfg := wasmtime.NewConfig()
	cfg.SetEpochInterruption(epoch)
	return wasmtime.NewEngineWithConfig(cfg)
}

type instance struct {
	store *wasmtime.Store
	inst  *wasmtime.Instance
}

func load(t testing.TB, engine *wasmtime.Engine, name string) *instance {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("..", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		t.Fatal(err)
	}
	store := wasmtime.NewStore(engine)
	store.SetEpochDeadline(math.MaxUint64 / 2) // never reached: the epoch is never incremented
	inst, err := wasmtime.NewInstance(store, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &instance{store: store, inst: inst}
}

// call converts uint64 slots (as in bench/engine_test.go) to typed wasmtime arguments and the
// result back.
func (i *instance) call(name string, args ...uint64) (uint64, error) {
	f := i.inst.GetFunc(i.store, name)
	if f == nil {
		return 0, fmt.Errorf("no export %q", name)
	}
	params := f.Type(i.store).Params()
	if len(params) != len(args) {
		return 0, fmt.Errorf("%s: %d params, %d args", name, len(params), len(args))
	}
	in := make([]any, len(args))
	for j, p := range params {
		switch p.Kind() {
		case wasmtime.KindI32:
			in[j] = int32(uint32(args[j]))
		case wasmtime.KindI64:
			in[j] = int64(args[j])
		case wasmtime.KindF32:
			in[j] = math.Float32frombits(uint32(args[j]))
		case wasmtime.KindF64:
			in[j] = math.Float64frombits(args[j])
		default:
			return 0, fmt.Errorf("%s: unsupported param kind %v", name, p.Kind())
		}
	}
	out, err := f.Call(i.store, in...)
	if err != nil {
		return 0, err
	}
	switch v := out.(type) {
	case int32:
		return uint64(uint32(v)), nil
	case int64:
		return uint64(v), nil
	case float32:
		return uint64(math.Float32bits(v)), nil
	case float64:
		return math.Float64bits(v), nil
	}
	return 0, fmt.Errorf("%s: unexpected result %T", name, out)
}

func TestKernels(t *testing.T) {
	for _, e := range engines {
		engine := newEngine(e.epoch)
		for _, k := range kernels {
			t.Run(e.name+"/"+k.name, func(t *testing.T) {
				inst := load(t, engine, k.name)
				args, want := k.shortArgs, k.shortWant
				if os.Getenv("HLWASM_BENCH_FULL") != "" {
					args, want = k.args, k.want
				}
				for n := 0; n < 2; n++ {
					got, err := inst.call("run", args...)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("run%v = %#x, want %#x", args, got, want)
					}
				}
			})
		}
	}
}

func BenchmarkKernels(b *testing.B) {
	for _, k := range kernels {
		for _, e := range engines {
			b.Run(k.name+"/"+e.name, func(b *testing.B) {
				inst := load(b, newEngine(e.epoch), k.name)
				for b.Loop() {
					got, err := inst.call("run", k.args...)
					if err != nil {
						b.Fatal(err)
					}
					if got != k.want {
						b.Fatalf("run%v = %#x, want %#x", k.args, got, k.want)
					}
				}
			})
		}
	}
}

// BenchmarkCompileGoModule compiles ../gobig.wasm (see bench/gobig) with Cranelift.
func BenchmarkCompileGoModule(b *testing.B) {
	wasm, err := os.ReadFile("../gobig.wasm")
	if err != nil {
		b.Skip("../gobig.wasm missing: run `make bench-wasm` at the repository root")
	}
	b.SetBytes(int64(len(wasm)))
	engine := newEngine(false)
	b.Run("wasmtime", func(b *testing.B) {
		for b.Loop() {
			m, err := wasmtime.NewModule(engine, wasm)
			if err != nil {
				b.Fatal(err)
			}
			m.Close()
		}
	})
}
