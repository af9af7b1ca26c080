package programs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
)

// ioscriptWasm is tests/testdata/wasi/ioscript.wat: open() and run(n), a script of WASI file
// operations executed inside one call.
const ioscriptWasm = ourData + "/ioscript.wasm"

// ioOp is one record of the script (see ioscript.wat).
type ioOp struct {
	fn      uint32
	iov     [4]uint32
	payload []byte
	p       [5]uint64
}

// ioScript makes n random operations like wasi's TestReadAheadSameAsWithout: small reads
// (sometimes over two iovecs, sometimes larger than the guest serves), preads, seeks, appends
// through fd 5, overwrites through fd 6, tells, and small writes to stdout.
func ioScript(n int) []ioOp {
	r := rand.New(rand.NewPCG(3, 4))
	ops := make([]ioOp, n)
	for step := range ops {
		op := &ops[step]
		switch k := r.IntN(12); {
		case k < 6:
			m := uint32(1 + r.IntN(700))
			if r.IntN(10) == 0 {
				m = uint32(5000 + r.IntN(20000))
			}
			op.fn, op.p = 0, [5]uint64{4, 100, 2, 8}
			op.iov = [4]uint32{8192, m / 2, 40000, m - m/2}
		case k < 7:
			m := uint32(1 + r.IntN(600))
			op.fn, op.p = 1, [5]uint64{4, 100, 1, uint64(r.IntN(80_000)), 8}
			op.iov = [4]uint32{8192, m}
		case k < 8:
			op.fn, op.p = 2, [5]uint64{4, uint64(int64(r.IntN(2000) - 1000)), uint64(r.IntN(3)), 16}
			if r.IntN(2) == 0 {
				op.p[1], op.p[2] = uint64(r.IntN(75_000)), 0
			}
		case k < 9:
			op.fn, op.p = 3, [5]uint64{5, 100, 1, 8}
			op.payload = fmt.Appendf(nil, "<append %d>", step)
		case k < 10:
			op.fn, op.p = 4, [5]uint64{6, 100, 1, uint64(r.IntN(72_000)), 8}
			op.payload = fmt.Appendf(nil, "<over %d>", step)
		case k < 11:
			op.fn, op.p = 5, [5]uint64{4, 16}
		default:
			op.fn, op.p = 6, [5]uint64{0, 0, 1}
			op.payload = fmt.Appendf(nil, "out %d\n", step)
		}
		if op.payload != nil {
			op.iov = [4]uint32{1000, uint32(len(op.payload))}
		}
	}
	return ops
}

// runIOScript runs ops in one call on a sandbox of engine over a fresh copy of the file and
// returns the per-operation results, stdout, the file afterwards and the sandbox's stats.
func runIOScript(t *testing.T, engine host.Engine, ops []ioOp) (results, stdout, file []byte, st host.SandboxStats) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	init := make([]byte, 70_000)
	for i := range init {
		init[i] = byte(i % 251)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), init, 0o644))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	var out bytes.Buffer
	wasm, err := os.ReadFile(ioscriptWasm)
	require.NoError(t, err)
	rt, err := host.NewRuntime(ctx, host.Config{Engine: engine, WASI: &wasi.Config{Stdout: &out,
		Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(root), Writable: true}}}})
	if err != nil && engine == host.EngineMicroVM && os.Getenv("HLWASM_SKIP_KVM") == "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, wasm)
	require.NoError(t, err)
	defer mod.Close(ctx)
	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	res, err := sb.Call(ctx, "open")
	require.NoError(t, err)
	require.Equal(t, uint64(0), res[0], "path_open errno")
	mem := sb.Memory()
	require.NotNil(t, mem)
	payAt := uint32(0x90000)
	for i, op := range ops {
		rec := make([]byte, 80)
		binary.LittleEndian.PutUint32(rec, op.fn)
		for j, v := range op.iov {
			binary.LittleEndian.PutUint32(rec[4+4*j:], v)
		}
		if op.payload != nil {
			require.True(t, mem.Write(payAt, op.payload))
			binary.LittleEndian.PutUint32(rec[20:], payAt)
			binary.LittleEndian.PutUint32(rec[24:], uint32(len(op.payload)))
			payAt += uint32(len(op.payload))
		}
		for j, v := range op.p {
			binary.LittleEndian.PutUint64(rec[32+8*j:], v)
		}
		require.True(t, mem.Write(0x50000+uint32(i)*80, rec))
	}
	_, err = sb.Call(ctx, "run", uint64(len(ops)))
	require.NoError(t, err)
	mem = sb.Memory()
	results, ok := mem.Read(0x30000, uint32(24*len(ops)))
	require.True(t, ok)
	st, err = sb.Stats()
	require.NoError(t, err)
	file, err = os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	return results, out.Bytes(), file, st
}

// TestGuestIOSameAsHost: a script of random reads, preads, seeks, tells, appends and overwrites
// through other descriptors and stdout writes, run in one call, gives the same bytes, offsets,
// errnos, output and file in a micro-VM (whose guest answers most small reads from its windows
// and batches the stdout writes, with no host call) as on wazero (host-side buffering only,
// itself checked against plain reads in wasi's TestReadAheadSameAsWithout).
func TestGuestIOSameAsHost(t *testing.T) {
	ops := ioScript(3000)
	vmRes, vmOut, vmFile, st := runIOScript(t, host.EngineMicroVM, ops)
	wzRes, wzOut, wzFile, _ := runIOScript(t, host.EngineWazero, ops)
	for i := range ops {
		a, b := vmRes[24*i:24*i+24], wzRes[24*i:24*i+24]
		if !bytes.Equal(a, b) {
			for j := max(0, i-12); j < i; j++ {
				t.Logf("step %d: %+v %x", j, ops[j], vmRes[24*j:24*j+24])
			}
			t.Fatalf("step %d (%+v): micro-VM %x, wazero %x", i, ops[i], a, b)
		}
	}
	require.Equal(t, string(wzOut), string(vmOut), "stdout")
	require.Equal(t, wzFile, vmFile, "the file afterwards")
	t.Logf("micro-VM: %d of %d operations answered in the guest", st.LocalIOCalls, len(ops))
	require.NotZero(t, st.LocalIOCalls, "the guest answered no call itself")
}

// TestGuestIOBatchesStdout: small stdout writes on a micro-VM are answered by the guest itself
// (no host call), and their output arrives complete and in order, call after call.
func TestGuestIOBatchesStdout(t *testing.T) {
	var out bytes.Buffer
	mod := stdioModule(t, host.EngineMicroVM, &wasi.Config{Stdout: &out}, 1)
	ctx := context.Background()
	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for i := 1; i <= 3; i++ {
		_, err = sb.Call(ctx, "hello", 50)
		require.NoError(t, err)
		require.Equal(t, strings.Repeat("hello from wasm\n", 50*i), out.String())
	}
	st, err := sb.Stats()
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.LocalIOCalls, uint64(3*50-3), "writes the guest answered itself")
}
