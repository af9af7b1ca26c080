// Package diff runs the same modules with the same generated inputs on hlwasm's micro-VM
// engine and on wazero, and requires the same results (bit for bit, NaNs compared as NaNs) and
// the same trap kinds.
package diff

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
)

// interesting values per type, mixed with random ones.
var edges = map[api.ValueType][]uint64{
	api.ValueTypeI32: {0, 1, 2, 0xffffffff, 0x7fffffff, 0x80000000, 31, 32, 33, 100},
	api.ValueTypeI64: {0, 1, 2, math.MaxUint64, math.MaxInt64, 1 << 63, 63, 64, 65, 1000},
	api.ValueTypeF32: {0, uint64(math.Float32bits(float32(math.Copysign(0, -1)))), uint64(math.Float32bits(1.5)), uint64(math.Float32bits(-2.5)),
		uint64(math.Float32bits(float32(math.Inf(1)))), uint64(math.Float32bits(float32(math.NaN()))), uint64(math.Float32bits(3e9))},
	api.ValueTypeF64: {0, math.Float64bits(math.Copysign(0, -1)), math.Float64bits(1.5), math.Float64bits(-2.5),
		math.Float64bits(math.Inf(-1)), math.Float64bits(math.NaN()), math.Float64bits(1e19)},
}

func value(r *rand.Rand, t api.ValueType) uint64 {
	if e := edges[t]; r.IntN(3) == 0 && len(e) > 0 {
		return e[r.IntN(len(e))]
	}
	switch t {
	case api.ValueTypeI32:
		return uint64(uint32(r.Int32N(200) - 100))
	case api.ValueTypeI64:
		return uint64(r.Int64N(2000) - 1000)
	case api.ValueTypeF32:
		return uint64(math.Float32bits(float32(r.NormFloat64() * 100)))
	case api.ValueTypeF64:
		return math.Float64bits(r.NormFloat64() * 100)
	}
	return 0
}

type outcome struct {
	results []uint64
	trap    host.TrapKind
	err     string
}

func run(ctx context.Context, sb *host.Sandbox, name string, params []uint64) outcome {
	res, err := sb.Call(ctx, name, params...)
	var te *host.TrapError
	switch {
	case err == nil:
		return outcome{results: res}
	case errors.As(err, &te):
		k := te.Kind
		if k == host.TrapUninitializedElement || k == host.TrapTableOutOfBounds {
			k = host.TrapUndefinedElement // wazero reports all three as "invalid table access"
		}
		return outcome{trap: k}
	}
	return outcome{err: err.Error()}
}

func sameResults(types []api.ValueType, a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch types[i] {
		case api.ValueTypeF32:
			x, y := math.Float32frombits(uint32(a[i])), math.Float32frombits(uint32(b[i]))
			if x != x && y != y {
				continue // NaN payloads may differ (the spec allows it)
			}
		case api.ValueTypeF64:
			x, y := math.Float64frombits(a[i]), math.Float64frombits(b[i])
			if x != x && y != y {
				continue
			}
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDifferential(t *testing.T) {
	ctx := context.Background()
	modules := map[string][]string{ // module -> exports to skip (never return, or depend on time)
		"../testdata/arith.wasm":   nil,
		"../testdata/traps.wasm":   {"spin", "spin_count", "grow"},
		"../testdata/c_basic.wasm": nil,
		"../testdata/fresh.wasm":   {"dirty_then_spin"},
		"../../bench/fib.wasm":     nil,
	}
	vm, err := host.NewRuntime(ctx, host.Config{})
	if err != nil && os.Getenv("HLWASM_SKIP_KVM") == "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer vm.Close(ctx)
	wz, err := host.NewRuntime(ctx, host.Config{Engine: host.EngineWazero})
	require.NoError(t, err)
	defer wz.Close(ctx)
	r := rand.New(rand.NewPCG(1, 2))
	compared := 0
	for path, skip := range modules {
		wasm, err := os.ReadFile(path)
		require.NoError(t, err)
		var sbs [2]*host.Sandbox
		for i, rt := range []*host.Runtime{vm, wz} {
			mod, err := rt.LoadModule(ctx, wasm)
			require.NoError(t, err, path)
			defer mod.Close(ctx)
			sbs[i], err = mod.NewSandbox(ctx)
			require.NoError(t, err)
			defer sbs[i].Close(ctx)
		}
		defs := sbs[0].Module().ExportedFunctions()
		names := make([]string, 0, len(defs))
		for n := range defs {
			names = append(names, n)
		}
		sort.Strings(names)
	next:
		for _, name := range names {
			for _, s := range skip {
				if s == name {
					continue next
				}
			}
			def := defs[name]
			if filepath.Base(path) == "fib.wasm" && name != "fib" {
				continue
			}
			for k := 0; k < 40; k++ {
				params := make([]uint64, len(def.ParamTypes))
				for i, pt := range def.ParamTypes {
					params[i] = value(r, pt)
				}
				switch {
				case filepath.Base(path) == "fib.wasm" || name == "fib" || name == "fac_rec" || name == "fac_iter":
					params[0] %= 25 // keep recursion short
				case name == "count_primes" || name == "sum_squares_stack" || name == "isqrt":
					params[0] %= 100000 // keep loops and the sieve small
				}
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a safety net, never expected
				a, b := run(cctx, sbs[0], name, params), run(cctx, sbs[1], name, params)
				cancel()
				if a.err != "" || b.err != "" {
					t.Fatalf("%s %s%v: errors: microvm %q, wazero %q", filepath.Base(path), name, params, a.err, b.err)
				}
				if a.trap != b.trap || !sameResults(def.ResultTypes, a.results, b.results) {
					t.Fatalf("%s %s%v: microvm %v trap %v, wazero %v trap %v", filepath.Base(path), name, params,
						a.results, a.trap, b.results, b.trap)
				}
				compared++
			}
		}
	}
	t.Logf("%d calls compared", compared)
}
