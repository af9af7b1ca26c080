// Package spectest runs the official WebAssembly spec test suite, in the wast2json form that
// ships in the wazero module (internal/integration_test/spectest/<suite>/testdata: v1, v2 and
// the proposals extended-const, tail-call, exception-handling, typed-function-references) and,
// for relaxed-simd, multi-memory and memory64, converted here from the WebAssembly testsuite
// (testdata/<suite>, mk/testdata.mk; see Suites: wabt's wast2json converts what it can read,
// and the WebAssembly 3.0 scripts it cannot, memory64 (with 64-bit tables) and gc, are
// converted by wastconv, this package's command, from the spec reference interpreter's binary
// form of the script), against a Backend: wazero's interpreter, which validates the runner itself, or the
// hlwasm micro-VM. Each suite ends with one summary line (make test prints them).
//
//	go test ./tests/spectest -run TestSpec/v1
//	HLWASM_SPEC_BACKEND=microvm go test ./tests/spectest -run TestSpec/v2 -v
//
// Every JSON file gets a fresh Store (for the micro-VM backend a fresh micro-VM) with the
// `spectest` module (spectest.wat) instantiated and registered in it.
package spectest

//go:generate make -C ../.. -f mk/testdata.mk spectest-wasm

import _ "embed"

// spectestWasm is the module the suite imports as "spectest" (wazero's backend: no 64-bit
// tables); spectest64Wasm adds the 64-bit table "table64" (spectest.ml's), for backends with
// memory64 (spectestModuler).
//
//go:embed spectest.wasm
var spectestWasm []byte

//go:embed spectest64.wasm
var spectest64Wasm []byte

// spectestModuler is implemented by backends whose spectest module is not spectestWasm.
type spectestModuler interface{ spectestModule() []byte }
