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
	"fmt"
	"os"
	"sync"
	"testing"
)

func TestKernelsAgree(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, e engine) {
		for _, k := range Kernels {
			t.Run(k.Name, func(t *testing.T) {
				args, want := k.ShortArgs, k.ShortWant
				if os.Getenv("HLWASM_BENCH_FULL") != "" { // full size: ~40 s on wazero's interpreter
					args, want = k.Args, k.Want
				}
				inst, err := e.Load(ctx, k.Wasm)
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
	for _, k := range Kernels {
		b.Run(k.Name, func(b *testing.B) {
			forEachEngine(b, func(b *testing.B, e engine) {
				inst, err := e.Load(ctx, k.Wasm)
				if err != nil {
					b.Fatal(err)
				}
				defer inst.Close(ctx)
				args, want := k.Args, k.Want
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
