package bench

import _ "embed"

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
	//go:embed simd.wasm
	simdWasm []byte
)

// Kernel is one benchmark kernel: a module exporting run(Args...) -> i64 checksum.
type Kernel struct {
	Name string
	Wasm []byte
	Args []uint64 // to run
	Want uint64   // expected checksum for Args
	// a cheaper configuration, for TestKernelsAgree (the benchmarks check Want on every call)
	ShortArgs []uint64
	ShortWant uint64
}

// Kernels are the CPU-bound kernels (kernels/*.c), shared by this package's benchmarks and
// `hlwasm bench --only kernels`.
var Kernels = []Kernel{
	{Name: "fib", Wasm: fibWasm, Args: []uint64{30}, Want: 832040,
		ShortArgs: []uint64{20}, ShortWant: 6765},
	{Name: "sha256", Wasm: sha256Wasm, Args: []uint64{16}, Want: wantSHA256_16,
		ShortArgs: []uint64{1}, ShortWant: wantSHA256_1},
	{Name: "nbody", Wasm: nbodyWasm, Args: []uint64{200_000}, Want: wantNbody200k,
		ShortArgs: []uint64{1000}, ShortWant: wantNbody1k},
	{Name: "qsort", Wasm: qsortWasm, Args: []uint64{1_000_000, 1}, Want: wantQsort1M,
		ShortArgs: []uint64{10_000, 1}, ShortWant: wantQsort10k},
	{Name: "gemm", Wasm: gemmWasm, Args: []uint64{256}, Want: wantGemm256,
		ShortArgs: []uint64{32}, ShortWant: wantGemm32},
	{Name: "simd", Wasm: simdWasm, Args: []uint64{SIMDRuns}, Want: wantSIMD,
		ShortArgs: []uint64{2}, ShortWant: wantSIMD2},
}

// SIMDRuns is the simd kernel's benchmark parameter.
const SIMDRuns = 500

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
	wantSIMD      = 0x1fba7767d078bb46
	wantSIMD2     = 0x688b126f2baa45ff
)
