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

// HostAdd is the host function Module imports: a plain api.Func, as a user would write it (it
// does not declare HonorsContext, so a call with a deadline serves it on the machine's server
// goroutine).
var HostAdd = func() api.HostFunction {
	f, err := api.Func("env", "add", func(a, b int32) int32 { return a + b })
	if err != nil {
		panic(err)
	}
	return f
}()

// HostCalls is modules/hostcalls.wat: calls1000() makes 1,000 calls of env.add (HostAdd) and
// returns 1000.
//
//go:embed modules/hostcalls.wasm
var HostCalls []byte

// Cats are wazero v1.12.0's example `cat` programs (copied by mk/testdata.mk from wazero's
// module: imports/wasi_snapshot_preview1/example/testdata), by toolchain. Each copies the files
// named by its arguments to stdout: zig-cc in 512-byte read/write pairs, cargo through
// io::copy's 8 KiB buffer, tinygo with one os.ReadFile and one write.
var Cats = map[string][]byte{"cargo": catCargo, "tinygo": catTinygo, "zig-cc": catZigCC}

var (
	//go:embed modules/cat-cargo.wasm
	catCargo []byte
	//go:embed modules/cat-tinygo.wasm
	catTinygo []byte
	//go:embed modules/cat-zig-cc.wasm
	catZigCC []byte
)
