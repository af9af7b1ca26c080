package host_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/stretchr/testify/require"
)

// newRuntime fails (not skips) without /dev/kvm unless HLWASM_SKIP_KVM=1.
func newRuntime(t testing.TB, cfg host.Config) *host.Runtime {
	t.Helper()
	rt, err := host.NewRuntime(context.Background(), cfg)
	if err != nil {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip("HLWASM_SKIP_KVM=1:", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// engines runs f once per engine: the API behaves the same on micro-VMs and on wazero.
func engines(t *testing.T, f func(t *testing.T, e host.Engine)) {
	for _, e := range []host.Engine{host.EngineMicroVM, host.EngineWazero} {
		t.Run(e.String(), func(t *testing.T) { f(t, e) })
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "tests", "testdata", name))
	require.NoError(t, err)
	return b
}

func sandbox(t testing.TB, rt *host.Runtime, wasm []byte) *host.Sandbox {
	t.Helper()
	ctx := context.Background()
	mod, err := rt.LoadModule(ctx, wasm)
	require.NoError(t, err)
	t.Cleanup(func() { mod.Close(ctx) })
	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { sb.Close(ctx) })
	return sb
}

func TestArithmetic(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e}), fixture(t, "arith.wasm"))
		call := func(name string, params ...uint64) []uint64 {
			t.Helper()
			r, err := sb.Call(ctx, name, params...)
			require.NoError(t, err, name)
			return r
		}
		require.Equal(t, []uint64{5}, call("i32_add", 2, 3))
		require.Equal(t, []uint64{uint64(uint32(0xffffffff))}, call("i32_sub", 2, 3))
		require.Equal(t, []uint64{1 << 40}, call("i64_mul", 1<<20, 1<<20))
		require.Equal(t, math.Float64bits(0.30000000000000004), call("f64_add", math.Float64bits(0.1), math.Float64bits(0.2))[0])
		require.Equal(t, uint64(math.Float32bits(3.5)), call("f32_mul", uint64(math.Float32bits(1.75)), uint64(math.Float32bits(2)))[0])
		require.Equal(t, []uint64{3, 1}, call("divmod", 7, 2))
		require.Equal(t, []uint64{math.Float64bits(2.5), 9}, call("swap", 9, math.Float64bits(2.5)))
		require.Equal(t, []uint64{2432902008176640000}, call("fac_rec", 20))
		require.Equal(t, []uint64{2432902008176640000}, call("fac_iter", 20))
		for i := uint64(1); i <= 3; i++ {
			require.Equal(t, []uint64{i}, call("incr"))
		}
		require.Equal(t, []uint64{3}, call("cell"))
	})
}

func TestEveryTrapKind(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e, MaxCallDepth: 2000}), fixture(t, "traps.wasm"))
		for _, c := range []struct {
			fn   string
			kind host.TrapKind
		}{
			{"unreachable", host.TrapUnreachable},
			{"oob_load", host.TrapMemoryOutOfBounds},
			{"oob_store", host.TrapMemoryOutOfBounds},
			{"oob_straddle", host.TrapMemoryOutOfBounds},
			{"div_zero", host.TrapDivideByZero},
			{"rem_zero_i64", host.TrapDivideByZero},
			{"div_overflow", host.TrapIntegerOverflow},
			{"trunc_nan", host.TrapInvalidConversion},
			{"trunc_overflow", host.TrapIntegerOverflow},
			{"indirect_type_mismatch", host.TrapIndirectTypeMismatch},
			{"indirect_undefined", host.TrapUndefinedElement},
			{"indirect_null", host.TrapUninitializedElement},
			{"stack_overflow", host.TrapCallStackExhausted},
		} {
			def, ok := sb.Module().ExportedFunction(c.fn)
			require.True(t, ok, c.fn)
			_, err := sb.Call(ctx, c.fn, make([]uint64, len(def.ParamTypes))...)
			require.ErrorIs(t, err, host.ErrTrap, c.fn)
			var te *host.TrapError
			require.ErrorAs(t, err, &te)
			if e == host.EngineWazero && c.kind == host.TrapUninitializedElement {
				c.kind = host.TrapUndefinedElement // wazero reports both as "invalid table access"
			}
			require.Equal(t, c.kind, te.Kind, "%s: %v", c.fn, err)
			require.True(t, strings.HasPrefix(te.Error(), "trap: "+c.kind.String()), te.Error())
		}
		// A trap leaves the sandbox usable.
		def, _ := sb.Module().ExportedFunction("indirect_ok")
		r, err := sb.Call(ctx, "indirect_ok", make([]uint64, len(def.ParamTypes))...)
		require.NoError(t, err)
		require.Len(t, r, 1)
	})
}

// With one P, held by the guest's run (package vmm: KVM_RUN keeps its P), no Go timer can fire
// while the guest spins: the deadline still stops it (the run's own thread timer) and names the
// deadline, not a cancellation, though the context's timer may not have fired yet.
func TestDeadlineWithEveryPBusy(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rt := newRuntime(t, host.Config{})
	for i := 0; i < 5; i++ {
		sb := sandbox(t, rt, fixture(t, "traps.wasm"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := sb.Call(ctx, "spin")
		cancel()
		require.ErrorIs(t, err, host.ErrDeadline)
		require.NotErrorIs(t, err, host.ErrCanceled)
	}
	// Module.Call's pooled sandboxes too.
	mod, err := rt.LoadModule(context.Background(), fixture(t, "traps.wasm"))
	require.NoError(t, err)
	defer mod.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = mod.Call(ctx, "spin")
	require.ErrorIs(t, err, host.ErrDeadline)
}

func TestDeadlineStopsInfiniteLoop(t *testing.T) {
	rt := newRuntime(t, host.Config{})
	for _, fn := range []string{"spin", "spin_count"} {
		sb := sandbox(t, rt, fixture(t, "traps.wasm"))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		_, err := sb.Call(ctx, fn)
		cancel()
		require.ErrorIs(t, err, host.ErrDeadline, fn)
		t.Logf("%s stopped %v after the call started (deadline 50ms)", fn, time.Since(start))
		_, err = sb.Call(context.Background(), "size")
		require.ErrorIs(t, err, host.ErrUnusable)
	}
	// A guest that spins on the mailbox between calls (Spin) is stopped the same way.
	hot := newRuntime(t, host.Config{Spin: 5 * time.Millisecond})
	sbh := sandbox(t, hot, fixture(t, "traps.wasm"))
	_, err := sbh.Call(context.Background(), "size") // now spinning in the guest
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = sbh.Call(ctx, "spin")
	cancel()
	require.ErrorIs(t, err, host.ErrDeadline)
	// Cancellation too.
	sb := sandbox(t, rt, fixture(t, "traps.wasm"))
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = sb.Call(ctx, "spin")
	require.ErrorIs(t, err, host.ErrCanceled)
	// The runtime carries on.
	sb2 := sandbox(t, rt, fixture(t, "traps.wasm"))
	r, err := sb2.Call(context.Background(), "size")
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, r)
}

func TestMemoryLimit(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e, MaxMemoryPages: 4}), fixture(t, "traps.wasm"))
		r, err := sb.Call(ctx, "grow", 3)
		require.NoError(t, err)
		require.Equal(t, []uint64{1}, r) // old size
		r, err = sb.Call(ctx, "grow", 1)
		require.NoError(t, err)
		require.Equal(t, []uint64{0xffffffff}, r) // past the limit: -1
		r, err = sb.Call(ctx, "size")
		require.NoError(t, err)
		require.Equal(t, []uint64{4}, r)
	})
}

func TestBadArguments(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e}), fixture(t, "arith.wasm"))
		_, err := sb.Call(ctx, "nope")
		require.ErrorIs(t, err, host.ErrNoExport)
		_, err = sb.Call(ctx, "i32_add", 1)
		require.ErrorIs(t, err, host.ErrArguments)
		def, ok := sb.Module().ExportedFunction("swap")
		require.True(t, ok)
		require.Equal(t, []api.ValueType{api.ValueTypeI64, api.ValueTypeF64}, def.ParamTypes)
		require.Equal(t, []api.ValueType{api.ValueTypeF64, api.ValueTypeI64}, def.ResultTypes)
	})
}

func TestMalformedModules(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, host.Config{})
	dir := filepath.Join("..", "tests", "testdata", "malformed")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".wasm" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		mod, err := rt.LoadModule(ctx, b)
		if e.Name() == "valid_minimal.wasm" {
			require.NoError(t, err)
			mod.Close(ctx)
			continue
		}
		require.ErrorIs(t, err, host.ErrInvalidModule, e.Name())
		t.Logf("%s: %v", e.Name(), err)
	}
	// Every truncation of a real module is refused cleanly.
	good := fixture(t, "arith.wasm")
	for n := 0; n < len(good); n += max(1, len(good)/40) {
		_, err := rt.LoadModule(ctx, good[:n])
		require.Error(t, err, "truncated to %d bytes", n)
	}
}

func TestImportsRefusedNamingEach(t *testing.T) {
	wasm := fixture(t, "imports.wasm")
	_, err := newRuntime(t, host.Config{}).LoadModule(context.Background(), wasm)
	require.ErrorIs(t, err, host.ErrImportNotAllowed)
	require.Contains(t, err.Error(), "env.f (i32) -> (): not allowed by the host")
	require.Contains(t, err.Error(), "wasi_snapshot_preview1.fd_write (i32, i32, i32, i32) -> (i32): not allowed")
	// A registered function with another signature is named with both signatures.
	f, err := api.Func("env", "f", func(int64) {})
	require.NoError(t, err)
	_, err = newRuntime(t, host.Config{HostFunctions: []api.HostFunction{f}}).LoadModule(context.Background(), wasm)
	require.ErrorIs(t, err, host.ErrImportNotAllowed)
	require.Contains(t, err.Error(), "env.f: the module expects (i32) -> (), the host provides (i64) -> ()")
}

// Config.AllowImports narrows the provided host functions: imports.wasm (env.f and WASI's
// fd_write) loads only when both match an entry, and each refused import is named.
func TestAllowImports(t *testing.T) {
	wasm := fixture(t, "imports.wasm")
	f, err := api.Func("env", "f", func(int32) {})
	require.NoError(t, err)
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		load := func(allow ...string) error {
			rt, err := host.NewRuntime(ctx, host.Config{Engine: e, HostFunctions: []api.HostFunction{f},
				WASI: &wasi.Config{}, AllowImports: allow})
			if err != nil {
				return err
			}
			defer rt.Close(ctx)
			m, err := rt.LoadModule(ctx, wasm)
			if err == nil {
				m.Close(ctx)
			}
			return err
		}
		require.NoError(t, load(), "no AllowImports: everything provided")
		require.NoError(t, load("env.f", "wasi_snapshot_preview1.*"))
		require.NoError(t, load("env.*", "wasi_snapshot_preview1.fd_write", "hlwasm.log"))
		err := load("env.*")
		require.ErrorIs(t, err, host.ErrImportNotAllowed)
		require.Contains(t, err.Error(), "wasi_snapshot_preview1.fd_write (i32, i32, i32, i32) -> (i32): provided, but not in Config.AllowImports")
		require.NotContains(t, err.Error(), "env.f")
		err = load("wasi_snapshot_preview1.fd_read", "env.g")
		require.ErrorIs(t, err, host.ErrImportNotAllowed)
		require.Contains(t, err.Error(), "env.f (i32) -> (): provided, but not in Config.AllowImports")
		for _, bad := range []string{"env", ".f", "env.", "env.f*", "*"} {
			require.ErrorIs(t, load(bad), host.ErrArguments, bad)
		}
	})
}

func TestCBuiltModule(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		ctx := context.Background()
		sb := sandbox(t, newRuntime(t, host.Config{Engine: e}), fixture(t, "c_basic.wasm"))
		r, err := sb.Call(ctx, "fib", 20)
		require.NoError(t, err)
		require.Equal(t, []uint64{6765}, r)
	})
}

// Thousands of sandboxes created and closed in sequence leave no fds or memory behind.
func TestNoLeakAcrossSandboxes(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	ctx := context.Background()
	rt := newRuntime(t, host.Config{})
	mod, err := rt.LoadModule(ctx, fixture(t, "arith.wasm"))
	require.NoError(t, err)
	defer mod.Close(ctx)
	fds := func() int { e, _ := os.ReadDir("/proc/self/fd"); return len(e) }
	rss := func() int64 {
		b, _ := os.ReadFile("/proc/self/statm")
		var size, res int64
		_, _ = fmt.Sscan(string(b), &size, &res)
		return res * 4096
	}
	warm := func(k int) {
		for i := 0; i < k; i++ {
			sb, err := mod.NewSandbox(ctx)
			require.NoError(t, err)
			r, err := sb.Call(ctx, "i32_add", uint64(i), 1)
			require.NoError(t, err)
			require.Equal(t, []uint64{uint64(i + 1)}, r)
			require.NoError(t, sb.Close(ctx))
		}
	}
	warm(50)
	runtime.GC()
	fd0, rss0 := fds(), rss()
	warm(n)
	runtime.GC()
	fd1, rss1 := fds(), rss()
	t.Logf("%d sandboxes: fds %d → %d, RSS %d MiB → %d MiB", n, fd0, fd1, rss0>>20, rss1>>20)
	require.LessOrEqual(t, fd1, fd0+2)
	require.Less(t, rss1, rss0+64<<20)
}

// Huge inputs are refused with a clear error before anything large is allocated in a VM.
func TestHugeModuleRefused(t *testing.T) {
	rt := newRuntime(t, host.Config{MaxModuleBytes: 1 << 20})
	huge := make([]byte, 2<<20)
	copy(huge, []byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	_, err := rt.LoadModule(context.Background(), huge)
	require.ErrorIs(t, err, host.ErrLimit)
	// A module declaring a huge memory is refused by the engine's limit, not allocated.
	// (module (memory 65536))
	bigMem := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 5, 1, 0, 0x80, 0x80, 0x04}
	_, err = newRuntime(t, host.Config{MaxMemoryPages: 16}).LoadModule(context.Background(), bigMem)
	require.ErrorIs(t, err, host.ErrLimit)
	t.Log(err)
}
