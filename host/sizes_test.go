package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/wasi"
)

// TestEngineHeapPerModuleByte measures what the engine heap and the code region hold after
// loading real modules (the guest's own high-water marks), per byte of module: the numbers
// host/sizes.go's defaults are made from. HLWASM_MEASURE adds modules (a colon-separated list).
func TestEngineHeapPerModuleByte(t *testing.T) {
	paths := []string{"../bench/gobig.wasm", "../tests/testdata/wasi/stdlib-go.wasm",
		"../tests/testdata/wasi/hello-go.wasm", "../tests/testdata/wasi/cprog.wasm",
		"../internal/bench/modules/cat-cargo.wasm", "../internal/bench/modules/cat-tinygo.wasm",
		"../internal/bench/modules/cat-zig-cc.wasm", "../bench/sha256.wasm"}
	if extra := os.Getenv("HLWASM_MEASURE"); extra != "" {
		paths = append(paths, strings.Split(extra, ":")...)
	}
	ctx := context.Background()
	for _, tier := range []host.Tier{host.TierCompiled} {
		rt := newRuntime(t, host.Config{Tier: tier, WASI: &wasi.Config{}, EngineHeapBytes: 4 << 30})
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			info, err := wasmbin.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			mod, err := rt.LoadModule(ctx, b)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			sb, err := mod.NewSandbox(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, err := sb.Stats()
			if err != nil {
				t.Fatal(err)
			}
			n := float64(len(b))
			t.Logf("%-22s %s: %9d bytes (code %9d, data %8d): heap %10d (%.2f/byte, %.2f/code+data byte), code region %9d (%.2f/code byte)",
				filepath.Base(p), tier, len(b), info.CodeBytes, info.DataBytes, st.EngineHeapUsed, float64(st.EngineHeapUsed)/n,
				float64(st.EngineHeapUsed)/float64(info.CodeBytes+info.DataBytes), st.CodeUsed, float64(st.CodeUsed)/float64(max(info.CodeBytes, 1)))
			sb.Close(ctx)
			mod.Close(ctx)
		}
	}
}

// hugeModule generates a module of about codeBytes of code and dataBytes of data: nfuncs
// functions (i32) -> i32, each adding reps small constants to its argument, all in a table
// that the export "call" (index, x) calls through; an active data segment of dataBytes
// (byte i is i*7 mod 251) at address 0 that the export "load8" (addr) reads. want(i, x) is
// what call(i, x) returns.
func hugeModule(codeBytes, dataBytes int) (wasm []byte, nfuncs int, want func(i, x uint32) uint32) {
	const reps = 100
	c := func(i, j int) byte { return byte((i*31 + j) & 0x3f) }
	body := func(i int) []byte {
		b := []byte{0} // no locals
		for j := 0; j < reps; j++ {
			b = append(b, 0x20, 0x00, 0x41, c(i, j), 0x6a, 0x21, 0x00) // x = x + c
		}
		return append(b, 0x20, 0x00, 0x0b)
	}
	per := len(body(0)) + 3 // + size prefix
	nfuncs = codeBytes / per
	uleb := func(b []byte, v uint64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v == 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	section := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = uleb(out, uint64(len(body)))
		return append(out, body...)
	}
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	// types: 0 (i32)->i32, 1 (i32 i32)->i32
	out = section(out, 1, []byte{2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7f})
	fn := uleb(nil, uint64(nfuncs+2))
	for i := 0; i < nfuncs; i++ {
		fn = append(fn, 0)
	}
	fn = append(fn, 1, 0) // call, load8
	out = section(out, 3, fn)
	tab := append([]byte{1, 0x70, 0}, uleb(nil, uint64(nfuncs))...)
	out = section(out, 4, tab)
	pages := (dataBytes + 65535) / 65536
	out = section(out, 5, uleb([]byte{1, 0}, uint64(pages)))
	exp := []byte{2, 4, 'c', 'a', 'l', 'l', 0}
	exp = uleb(exp, uint64(nfuncs))
	exp = append(exp, 5, 'l', 'o', 'a', 'd', '8', 0)
	exp = uleb(exp, uint64(nfuncs+1))
	out = section(out, 7, exp)
	el := []byte{1, 0, 0x41, 0, 0x0b}
	el = uleb(el, uint64(nfuncs))
	for i := 0; i < nfuncs; i++ {
		el = uleb(el, uint64(i))
	}
	out = section(out, 9, el)
	code := uleb(nil, uint64(nfuncs+2))
	for i := 0; i < nfuncs; i++ {
		b := body(i)
		code = uleb(code, uint64(len(b)))
		code = append(code, b...)
	}
	// call: local.get 1, local.get 0, call_indirect type 0 table 0
	callBody := []byte{0, 0x20, 1, 0x20, 0, 0x11, 0, 0, 0x0b}
	code = uleb(code, uint64(len(callBody)))
	code = append(code, callBody...)
	// load8: local.get 0, i32.load8_u align 0 offset 0
	loadBody := []byte{0, 0x20, 0, 0x2d, 0, 0, 0x0b}
	code = uleb(code, uint64(len(loadBody)))
	code = append(code, loadBody...)
	out = section(out, 10, code)
	data := []byte{1, 0, 0x41, 0, 0x0b}
	data = uleb(data, uint64(dataBytes))
	for i := 0; i < dataBytes; i++ {
		data = append(data, byte(i*7%251))
	}
	out = section(out, 11, data)
	want = func(i, x uint32) uint32 {
		for j := 0; j < reps; j++ {
			x += uint32(c(int(i), j))
		}
		return x
	}
	return out, nfuncs, want
}

// TestHugeModule loads a generated module of 109 MB (67 MB of code in 95,000 functions, 42 MB
// of data) into a micro-VM with the default sizes and calls it: the engine heap, the code
// region and the transfer window follow the module (each needs more than the old fixed sizes).
func TestHugeModule(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: loads a 109 MB module (13 s here; 80 s with the race detector, which has nothing to find in it)")
	}
	wasm, nfuncs, want := hugeModule(64<<20, 40<<20)
	if len(wasm) < 100<<20 {
		t.Fatalf("generated only %d bytes", len(wasm))
	}
	ctx := context.Background()
	rt := newRuntime(t, host.Config{LoadTimeout: host.NoTimeout, CallTimeout: host.NoTimeout})
	mod, err := rt.LoadModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	for _, i := range []uint32{0, 1, uint32(nfuncs / 2), uint32(nfuncs - 1)} {
		res, err := sb.Call(ctx, "call", uint64(i), 1000)
		if err != nil {
			t.Fatalf("call(%d): %v", i, err)
		}
		if uint32(res[0]) != want(i, 1000) {
			t.Fatalf("call(%d, 1000) = %d, want %d", i, uint32(res[0]), want(i, 1000))
		}
	}
	for _, a := range []uint32{0, 12345, 40<<20 - 1} {
		res, err := sb.Call(ctx, "load8", uint64(a))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(res[0]) != a*7%251 {
			t.Fatalf("load8(%d) = %d, want %d", a, res[0], a*7%251)
		}
	}
	st, err := sb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	info, _ := wasmbin.Parse(wasm)
	t.Logf("%d bytes (code %d, data %d): engine heap %d of %d used (%.2f per code+data byte), code region %d of %d (%.2f per code byte)",
		len(wasm), info.CodeBytes, info.DataBytes, st.EngineHeapUsed, st.EngineHeapBytes,
		float64(st.EngineHeapUsed)/float64(info.CodeBytes+info.DataBytes), st.CodeUsed, st.CodeBytes,
		float64(st.CodeUsed)/float64(info.CodeBytes))
	// The heap it used, and the code region it was given, exceed the old fixed 64 MiB of each
	// (how much machine code it needs moves with the compile tier: 82 MB before its register
	// cache, 35 MB after).
	if st.CodeBytes <= 64<<20 || st.EngineHeapUsed <= 64<<20 {
		t.Errorf("code region %d bytes, heap used %d: the module should be given more than the old fixed 64 MiB of each", st.CodeBytes, st.EngineHeapUsed)
	}
}

// Every limit error wraps ErrLimit and names the limit, its value and the setting that raises
// it.
func TestLimitErrorsNameTheirSetting(t *testing.T) {
	ctx := context.Background()
	small, _, _ := hugeModule(2<<20, 1<<20) // 3 MB: about 20 MB of engine heap
	check := func(t *testing.T, err error, words ...string) {
		t.Helper()
		if !errors.Is(err, host.ErrLimit) {
			t.Fatalf("%v: does not wrap ErrLimit", err)
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: does not name %q", err, w)
			}
		}
		t.Log(err)
	}
	t.Run("module size", func(t *testing.T) {
		_, err := newRuntime(t, host.Config{MaxModuleBytes: 1 << 20}).LoadModule(ctx, small)
		check(t, err, "1 MiB", "Config.MaxModuleBytes", "--max-module-size")
	})
	t.Run("module size over the engine's", func(t *testing.T) {
		_, err := host.NewRuntime(ctx, host.Config{MaxModuleBytes: 1 << 30})
		check(t, err, "1 GiB", "Config.MaxModuleBytes", "256 MiB")
	})
	t.Run("engine heap", func(t *testing.T) {
		_, err := newRuntime(t, host.Config{EngineHeapBytes: 8 << 20}).LoadModule(ctx, small)
		check(t, err, "8 MiB", "Config.EngineHeapBytes", "--engine-heap")
	})
	t.Run("engine heap default fits", func(t *testing.T) {
		mod, err := newRuntime(t, host.Config{}).LoadModule(ctx, small)
		if err != nil {
			t.Fatal(err)
		}
		mod.Close(ctx)
	})
	t.Run("engine heap holds the tables' minimum", func(t *testing.T) {
		// (module (table 10000000 funcref) (memory 1)): 80 MB of table, a memory reserving
		// MaxMemoryPages from the heap's top.
		bigTable := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 4, 7, 1, 0x70, 0, 0x80, 0xad, 0xe2, 0x04, 5, 3, 1, 0, 1}
		mod, err := newRuntime(t, host.Config{}).LoadModule(ctx, bigTable)
		if err != nil {
			t.Fatal(err)
		}
		mod.Close(ctx)
		_, err = newRuntime(t, host.Config{EngineHeapBytes: 64 << 20}).LoadModule(ctx, bigTable)
		check(t, err, "64 MiB", "Config.EngineHeapBytes")
	})
	t.Run("engine heap over the layout", func(t *testing.T) {
		_, err := newRuntime(t, host.Config{EngineHeapBytes: 14 << 30, MaxMemoryPages: 65536}).LoadModule(ctx, small)
		check(t, err, "Config.EngineHeapBytes", "--engine-heap", "Config.MaxMemoryPages", "17 GiB")
		_, err = host.NewRuntime(ctx, host.Config{EngineHeapBytes: 20 << 30})
		check(t, err, "20 GiB", "Config.EngineHeapBytes")
	})
	t.Run("linear memory", func(t *testing.T) {
		// small's memory starts at 16 pages (1 MiB).
		_, err := newRuntime(t, host.Config{MaxMemoryPages: 8}).LoadModule(ctx, small)
		check(t, err, "16 pages", "8 pages", "Config.MaxMemoryPages", "--max-memory")
	})
	t.Run("sandbox memory", func(t *testing.T) {
		// Below what any sandbox maps to load a module: the layout, the transfer window, the
		// engine's stacks and the first code region (the exact need moves with the engine).
		_, err := newRuntime(t, host.Config{MaxSandboxMemory: 12 << 20}).LoadModule(ctx, small)
		check(t, err, "12582912", "Config.MaxSandboxMemory", "--max-sandbox-memory")
	})
}
