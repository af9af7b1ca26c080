package bench

import _ "embed"

// Module is the benchmark module (modules/bench.wat): add(i32, i32) and dirty(n) which writes
// one byte into each of the first n linear-memory pages.
//
//go:generate wat2wasm modules/bench.wat -o modules/bench.wasm
//go:embed modules/bench.wasm
var Module []byte
