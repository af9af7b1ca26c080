package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

// wasm3Runtime defines env.reenter(n) for tests/testdata/wasm3.wat: it calls back into the
// calling instance's uncaught(n), which throws, and returns that call's error.
func wasm3Runtime(t *testing.T, e host.Engine, nested *error) *host.Runtime {
	t.Helper()
	reenter, err := api.Func("env", "reenter", func(ctx context.Context, n int32) (int32, error) {
		c, ok := api.CallerFromContext(ctx)
		if !ok {
			return 0, errors.New("no caller")
		}
		_, err := c.Call(ctx, "uncaught", uint64(uint32(n)))
		*nested = err
		return 0, err
	})
	require.NoError(t, err)
	return newRuntime(t, host.Config{Engine: e, HostFunctions: []api.HostFunction{reenter}, MaxCallDepth: 1000})
}

// Exception handling in the legacy encoding, tail calls and extended constant expressions; an
// uncaught exception is a TrapError of kind TrapUncaughtException, and a host function between
// the throw and a handler does not let the exception through: the nested call fails, and the
// host function's failure (here: that error) ends the outer call, which catch_all does not
// catch. Micro-VMs only: wazero 1.12 refuses the legacy encoding (TestWasm3LegacyOnWazero).
func TestWasm3Features(t *testing.T) {
	{
		e := host.EngineMicroVM
		ctx := context.Background()
		var nested error
		sb := sandbox(t, wasm3Runtime(t, e, &nested), fixture(t, "wasm3.wasm"))
		call := func(name string, params ...uint64) []uint64 {
			t.Helper()
			r, err := sb.Call(ctx, name, params...)
			require.NoError(t, err, name)
			return r
		}
		require.Equal(t, []uint64{42}, call("global"))
		require.Equal(t, []uint64{8}, call("caught", 7))
		require.Equal(t, []uint64{7}, call("rethrown"))
		require.Equal(t, []uint64{9}, call("delegated"))
		// 100000 tail calls with MaxCallDepth 1000: the depth does not grow.
		require.Equal(t, []uint64{100000}, call("count", 100000, 0))

		_, err := sb.Call(ctx, "uncaught", 3)
		require.ErrorIs(t, err, host.ErrTrap)
		var te *host.TrapError
		require.ErrorAs(t, err, &te)
		require.Equal(t, host.TrapUncaughtException, te.Kind, "%v", err)
		require.Equal(t, "uncaught exception", te.Kind.String())
		require.Equal(t, []uint64{4}, call("caught", 3), "the sandbox stays usable")

		r, err := sb.Call(ctx, "through_host")
		require.ErrorIs(t, err, host.ErrTrap, "catch_all does not catch a host function's failure (got %v)", r)
		require.ErrorAs(t, nested, &te, "the nested call: %v", nested)
		require.Equal(t, host.TrapUncaughtException, te.Kind)
		// Not checked: that the sandbox is usable after this. On micro-VMs every later call
		// fails with the same error once a host function returned a nested call's error; that
		// predates exception handling (nested.wasm shows it too) and is reported separately.
	}
}

// wazero 1.12 refuses the legacy exception-handling encoding with a clear error (it asks for
// wasm-opt --translate-to-exnref); the micro-VM engine runs it (TestWasm3Features).
func TestWasm3LegacyOnWazero(t *testing.T) {
	var nested error
	rt := wasm3Runtime(t, host.EngineWazero, &nested)
	_, err := rt.LoadModule(context.Background(), fixture(t, "wasm3.wasm"))
	require.ErrorContains(t, err, "legacy exception handling")
}

// wazeroFile is a file of the wazero module (a dependency, so it is in the module cache).
func wazeroFile(t *testing.T, rel string) []byte {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/tetratelabs/wazero@v1.12.0").Output()
	require.NoError(t, err)
	var info struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &info))
	b, err := os.ReadFile(filepath.Join(info.Dir, rel))
	require.NoError(t, err)
	return b
}

// C++ built with -fwasm-exceptions (wazero's cpp_exceptions testdata: the standard encoding,
// try_table and exnref) gives wazero's results on both engines.
func TestCppExceptions(t *testing.T) {
	wasm := wazeroFile(t, "experimental/testdata/cpp_exceptions.wasm")
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e}), wasm)
		_, err := sb.Call(ctx, "_initialize")
		require.NoError(t, err)
		for _, c := range []struct {
			fn   string
			want int32
		}{{"test_no_throw", 42}, {"test_catch_specific", -1}, {"test_catch_base", 1}, {"test_rethrow", -42}} {
			r, err := sb.Call(ctx, c.fn)
			require.NoError(t, err, c.fn)
			require.Equal(t, []uint64{uint64(uint32(c.want))}, r, c.fn)
		}
	})
}

// A module using a proposal hlwasm does not implement is refused with ErrUnsupportedFeature
// (inside ErrInvalidModule) naming it: GC types by the host with the wazero engine (the guest
// engine implements them), threads' instructions by the guest engine.
func TestUnsupportedFeatureNamed(t *testing.T) {
	hdr := []byte("\x00asm\x01\x00\x00\x00")
	structRef := append(append([]byte{}, hdr...), 1, 6, 1, 0x60, 1, 0x63, 0x6b, 0) // (param (ref null struct))
	// a body with atomic.fence (threads are not implemented)
	fence := append(append([]byte{}, hdr...), 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 7, 1, 5, 0, 0xfe, 3, 0, 0x0b)
	load := func(t *testing.T, e host.Engine, wasm []byte) error {
		ctx := context.Background()
		mod, err := newRuntime(t, host.Config{Engine: e}).LoadModule(ctx, wasm)
		if err != nil {
			return err
		}
		defer mod.Close(ctx)
		sb, err := mod.NewSandbox(ctx)
		if err == nil {
			sb.Close(ctx)
		}
		return err
	}
	err := load(t, host.EngineWazero, structRef)
	require.ErrorIs(t, err, host.ErrInvalidModule)
	require.ErrorIs(t, err, host.ErrUnsupportedFeature)
	require.ErrorContains(t, err, "garbage collection")
	require.NoError(t, load(t, host.EngineMicroVM, structRef))
	err = load(t, host.EngineMicroVM, fence)
	require.ErrorIs(t, err, host.ErrInvalidModule)
	require.ErrorIs(t, err, host.ErrUnsupportedFeature)
	require.ErrorContains(t, err, "unsupported feature: threads")
}

// Typed function references: a non-nullable local initialized by local.set, call_ref through
// it, and call_ref of a null reference (a trap). Exports with (ref $t) parameters take funcref
// values from the host.
func TestTypedFunctionReferences(t *testing.T) {
	sec := func(id byte, b ...byte) []byte { return append([]byte{id, byte(len(b))}, b...) }
	var wasm []byte
	wasm = append(wasm, "\x00asm\x01\x00\x00\x00"...)
	wasm = append(wasm, sec(1, 1, 0x60, 1, 0x7f, 1, 0x7f)...)                              // type 0: i32 -> i32
	wasm = append(wasm, sec(3, 3, 0, 0, 0)...)                                             // 3 functions
	wasm = append(wasm, sec(7, 2, 3, 'r', 'u', 'n', 0, 1, 4, 'n', 'u', 'l', 'l', 0, 2)...) // exports
	wasm = append(wasm, sec(9, 1, 3, 0, 1, 0)...)                                          // elem declare func 0
	wasm = append(wasm, sec(10, 3,
		7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b, // inc: local.get 0; i32.const 1; i32.add
		15, 1, 1, 0x64, 0, 0xd2, 0, 0x21, 1, 0x20, 0, 0x20, 1, 0x14, 0, 0x0b, // (local (ref 0)) set; call_ref 0
		8, 0, 0x41, 0, 0xd0, 0, 0x14, 0, 0x0b)...) // call_ref 0 of ref.null 0
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e}), wasm)
		r, err := sb.Call(ctx, "run", 41)
		require.NoError(t, err)
		require.Equal(t, []uint64{42}, r)
		_, err = sb.Call(ctx, "null", 1)
		var trap *host.TrapError
		require.ErrorAs(t, err, &trap)
		if e == host.EngineMicroVM {
			require.Equal(t, host.TrapNullFunctionReference, trap.Kind)
		} else { // wazero says "null reference" for every null dereference
			require.Equal(t, host.TrapNullReference, trap.Kind)
		}
	})
}

// Multi-memory: a store and loads on memory 1 (its data segment initialized), memory.grow and
// memory.size of memory 1; the exported memory 0 is untouched. Micro-VMs only (wazero 1.12 has
// no multi-memory).
func TestMultiMemory(t *testing.T) {
	// wat2wasm --enable-multi-memory of:
	//   (memory (export "mem") 1) (memory $m1 1 4) (data (memory $m1) (i32.const 0) "\2a")
	//   (func (export "run") (result i32) (i32.store8 $m1 (i32.const 1) (i32.const 7))
	//     (i32.add (i32.load8_u $m1 (i32.const 0)) (i32.load8_u $m1 (i32.const 1))))
	//   (func (export "grow") (result i32) (drop (memory.grow $m1 (i32.const 2)))
	//     (i32.add (i32.mul (memory.size $m1) (i32.const 10)) (memory.size 0)))
	wasm := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
		0x03, 0x03, 0x02, 0x00, 0x00, 0x05, 0x06, 0x02, 0x00, 0x01, 0x01, 0x01, 0x04, 0x07, 0x14, 0x03, 0x03,
		0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00,
		0x01, 0x0a, 0x29, 0x02, 0x17, 0x00, 0x41, 0x01, 0x41, 0x07, 0x3a, 0x40, 0x01, 0x00, 0x41, 0x00, 0x2d,
		0x40, 0x01, 0x00, 0x41, 0x01, 0x2d, 0x40, 0x01, 0x00, 0x6a, 0x0b, 0x0f, 0x00, 0x41, 0x02, 0x40, 0x01,
		0x1a, 0x3f, 0x01, 0x41, 0x0a, 0x6c, 0x3f, 0x00, 0x6a, 0x0b, 0x0b, 0x08, 0x01, 0x02, 0x01, 0x41, 0x00,
		0x0b, 0x01, 0x2a}
	ctx := context.Background()
	sb := sandbox(t, newRuntime(t, host.Config{}), wasm)
	r, err := sb.Call(ctx, "run")
	require.NoError(t, err)
	require.Equal(t, []uint64{42 + 7}, r)
	r, err = sb.Call(ctx, "grow")
	require.NoError(t, err)
	require.Equal(t, []uint64{3*10 + 1}, r)
	mem := sb.Memory()
	require.NotNil(t, mem)
	b, ok := mem.Read(0, 2)
	require.True(t, ok)
	require.Equal(t, []byte{0, 0}, b) // memory 0
}

// memory64: i64 addresses (an address of 2^32 + 8 is out of bounds, not address 8), memory.grow
// with an i64 delta (-1 as an i64 when it fails). Micro-VMs only (wazero 1.12 has no memory64).
func TestMemory64(t *testing.T) {
	// wat2wasm --enable-memory64 of: (memory i64 1)
	//   (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
	//   (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
	//   (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
	wasm := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60, 0x02, 0x7e, 0x7f,
		0x00, 0x60, 0x01, 0x7e, 0x01, 0x7f, 0x60, 0x01, 0x7e, 0x01, 0x7e, 0x03, 0x04, 0x03, 0x00, 0x01, 0x02,
		0x05, 0x03, 0x01, 0x04, 0x01, 0x07, 0x17, 0x03, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x00, 0x04,
		0x6c, 0x6f, 0x61, 0x64, 0x00, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x02, 0x0a, 0x1a, 0x03, 0x09,
		0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,
		0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b}
	ctx := context.Background()
	sb := sandbox(t, newRuntime(t, host.Config{}), wasm)
	_, err := sb.Call(ctx, "store", 8, 77)
	require.NoError(t, err)
	r, err := sb.Call(ctx, "load", 8)
	require.NoError(t, err)
	require.Equal(t, []uint64{77}, r)
	var trap *host.TrapError
	_, err = sb.Call(ctx, "load", 1<<32+8)
	require.ErrorAs(t, err, &trap)
	require.Equal(t, host.TrapMemoryOutOfBounds, trap.Kind)
	r, err = sb.Call(ctx, "grow", 1)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, r)
	r, err = sb.Call(ctx, "grow", 1<<40)
	require.NoError(t, err)
	require.Equal(t, []uint64{^uint64(0)}, r)
}

// A module with several memories and no declared maximum loads with the default settings: each
// memory reserves the runtime's memory cap, and the sandbox's layout follows the module
// (host/sizes.go). It used to fail with "engine heap exhausted".
func TestMultiMemoryDefaultSizes(t *testing.T) {
	// wat2wasm --enable-multi-memory of:
	//   (memory $a 1) (memory $b 1) (memory $c 1)
	//   (func (export "f") (result i32)
	//     (i32.store $b (i32.const 0) (i32.const 7)) (i32.store $c (i32.const 4) (i32.const 5))
	//     (i32.add (i32.load $b (i32.const 0)) (i32.load $c (i32.const 4))))
	wasm := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03,
		0x02, 0x01, 0x00, 0x05, 0x07, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x07, 0x05, 0x01, 0x01,
		0x66, 0x00, 0x00, 0x0a, 0x21, 0x01, 0x1f, 0x00, 0x41, 0x00, 0x41, 0x07, 0x36, 0x42, 0x01, 0x00,
		0x41, 0x04, 0x41, 0x05, 0x36, 0x42, 0x02, 0x00, 0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x41, 0x04,
		0x28, 0x42, 0x02, 0x00, 0x6a, 0x0b,
	}
	sb := sandbox(t, newRuntime(t, host.Config{}), wasm)
	r, err := sb.Call(context.Background(), "f")
	require.NoError(t, err)
	require.Equal(t, []uint64{12}, r)
}
