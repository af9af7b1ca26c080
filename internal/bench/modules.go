package bench

import (
	_ "embed"

	"github.com/hlwasm/hlwasm/api"
)

// Module is the benchmark module (modules/bench.wat): add(i32, i32), dirty(n) which writes one
// byte into each of the first n linear-memory pages, and host_loop(n) which calls the host's
// env.add (HostAdd) n times.
//
//go:generate make -C ../.. -f mk/testdata.mk internal/bench/modules/bench.wasm
//go:embed modules/bench.wasm
var Module []byte

// HostAdd is the host function Module imports.
var HostAdd = func() api.HostFunction {
	f, err := api.Func("env", "add", func(a, b int32) int32 { return a + b })
	if err != nil {
		panic(err)
	}
	f.HonorsContext = true // it never blocks
	return f
}()
