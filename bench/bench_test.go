// Package bench compares Wasm engines on a few CPU-bound kernels (C sources in kernels/, built
// to *.wasm by `make bench-wasm`, see mk/testdata.mk) and on compiling a large Go-built module.
//
//	go test ./bench -run Agree            # all engines compute the same checksums
//	go test ./bench -bench . -benchtime 1x -run '^$'
//
// Every kernel exports run(params...) -> i64 checksum; the parameters below are the same for
// every engine, and every call's checksum is checked against the expected value.
// TestKernelsAgree checks smaller sizes (all sizes with HLWASM_BENCH_FULL=1).
package bench

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"sync"
	"testing"
)

var (
	//go:embed fib.wasm
	fibWasm []byte
	//go:embed sha256.wasm
	sha256Wasm []byte
	//go:embed nbody.wasm
	nbodyWasm []byte
	//go:embed qsort.wasm
	qsortWasm []byte
	//go:embed gemm.wasm
	gemmWasm []byte
)

type kernel struct {
	name string
	wasm []byte
	args []uint64 // to run
	want uint64   // expected checksum for args
	// a cheaper configuration, for TestKernelsAgree (the benchmarks check want on every call)
	shortArgs []uint64
	shortWant uint64
}

var kernels = []kernel{
	{name: "fib", wasm: fibWasm, args: []uint64{30}, want: 832040,
		shortArgs: []uint64{20}, shortWant: 6765},
	{name: "sha256", wasm: sha256Wasm, args: []uint64{16}, want: wantSHA256_16,
		shortArgs: []uint64{1}, shortWant: wantSHA256_1},
	{name: "nbody", wasm: nbodyWasm, args: []uint64{200_000}, want: wantNbody200k,
		shortArgs: []uint64{1000}, shortWant: wantNbody1k},
	{name: "qsort", wasm: qsortWasm, args: []uint64{1_000_000, 1}, want: wantQsort1M,
		shortArgs: []uint64{10_000, 1}, shortWant: wantQsort10k},
	{name: "gemm", wasm: gemmWasm, args: []uint64{256}, want: wantGemm256,
		shortArgs: []uint64{32}, shortWant: wantGemm32},
}

// Expected checksums. They were computed by wazero (interpreter and compiler agree) and by the
// same C compiled natively (kernels/native_check.sh); any correct engine must reproduce them
// bit for bit (the kernels avoid everything Wasm leaves nondeterministic, e.g. NaN payloads).
const (
	wantSHA256_16 = 0x36ab643e2c800ca5
	wantSHA256_1  = 0x9d3b8f05a8d35b98
	wantNbody200k = 0xbfc5a488fbe2eb1c // -0.16908371256962418
	wantNbody1k   = 0xbfc5a4a9a3521fa9 // -0.169087605234606, the benchmarks game's value
	wantQsort1M   = 0xba0b161bbf50263f
	wantQsort10k  = 0xc2a99d9fc52c0445
	wantGemm256   = 0x2668142a3f6d6df9
	wantGemm32    = 0xd2e6c8e15d2cb560
)

func TestKernelsAgree(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, e engine) {
		for _, k := range kernels {
			t.Run(k.name, func(t *testing.T) {
				args, want := k.shortArgs, k.shortWant
				if os.Getenv("HLWASM_BENCH_FULL") != "" { // full size: ~40 s on wazero's interpreter
					args, want = k.args, k.want
				}
				inst, err := e.Load(ctx, k.wasm)
				if err != nil {
					t.Fatal(err)
				}
				defer inst.Close(ctx)
				// Twice on the same instance: run() must not depend on leftover state.
				for i := 0; i < 2; i++ {
					res, err := inst.Call(ctx, "run", args...)
					if err != nil {
						t.Fatal(err)
					}
					if len(res) != 1 || res[0] != want {
						t.Fatalf("run%v = %#x, want %#x", args, res, want)
					}
				}
			})
		}
	})
}

// TestSHA256Selftest checks the SHA-256 kernel against the FIPS 180-4 "abc" test vector.
func TestSHA256Selftest(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, e engine) {
		inst, err := e.Load(ctx, sha256Wasm)
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close(ctx)
		if res, err := inst.Call(ctx, "selftest"); err != nil || res[0] != 1 {
			t.Fatalf("selftest() = %v, %v; want [1]", res, err)
		}
	})
}

// BenchmarkKernels times one run() call per op on an instance created once per engine and
// kernel (compilation and instantiation are not timed).
func BenchmarkKernels(b *testing.B) {
	ctx := context.Background()
	for _, k := range kernels {
		b.Run(k.name, func(b *testing.B) {
			forEachEngine(b, func(b *testing.B, e engine) {
				inst, err := e.Load(ctx, k.wasm)
				if err != nil {
					b.Fatal(err)
				}
				defer inst.Close(ctx)
				args, want := k.args, k.want
				b.ResetTimer()
				for b.Loop() {
					res, err := inst.Call(ctx, "run", args...)
					if err != nil {
						b.Fatal(err)
					}
					if res[0] != want {
						b.Fatalf("run%v = %#x, want %#x", args, res[0], want)
					}
				}
			})
		})
	}
}

// BenchmarkInstantiate times Load (compile + instantiate) + Close of a small kernel module.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	forEachEngine(b, func(b *testing.B, e engine) {
		for b.Loop() {
			inst, err := e.Load(ctx, sha256Wasm)
			if err != nil {
				b.Fatal(err)
			}
			inst.Close(ctx)
		}
	})
}

// goModule returns a Go-built module of a few MiB without imports (bench/gobig.wasm: bench/gobig
// built with GOOS=wasip1, its WASI imports then replaced by stubs by bench/gobig/stubimports;
// `make bench-wasm` rebuilds it, see mk/testdata.mk).
var goModule = sync.OnceValues(func() ([]byte, error) {
	b, err := os.ReadFile("gobig.wasm")
	if err != nil {
		return nil, fmt.Errorf("%w (rebuild with make bench-wasm)", err)
	}
	return b, nil
})

// BenchmarkCompileGoModule times compiling (decode, validate, translate; no instantiation) a
// ~4 MiB Go-built module, once per op, on engines implementing compiler. For hlwasm that is
// LoadModule, which also copies the module into a micro-VM and instantiates it there.
func BenchmarkCompileGoModule(b *testing.B) {
	wasm, err := goModule()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	forEachEngine(b, func(b *testing.B, e engine) {
		c, ok := e.(compiler)
		if !ok {
			b.Skip("engine cannot compile without instantiating")
		}
		b.SetBytes(int64(len(wasm)))
		for b.Loop() {
			release, err := c.Compile(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
}
