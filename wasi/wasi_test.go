package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	wasip1 "github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
)

// TestSignatures: the 46 functions have wazero's names and core signatures.
func TestSignatures(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	compiled, err := wasip1.NewBuilder(rt).Compile(ctx)
	require.NoError(t, err)
	want := compiled.ExportedFunctions()
	funcs, err := wasi.New(wasi.Config{})
	require.NoError(t, err)
	require.Len(t, funcs, 46)
	require.Len(t, want, 46)
	for _, f := range funcs {
		require.Equal(t, wasi.ModuleName, f.ModuleName)
		w, ok := want[f.Name]
		require.True(t, ok, f.Name)
		conv := func(ts []byte) []api.ValueType {
			out := []api.ValueType{}
			for _, v := range ts {
				out = append(out, api.ValueType(v))
			}
			return out
		}
		require.Equal(t, conv(w.ParamTypes()), append([]api.ValueType{}, f.ParamTypes...), f.Name)
		require.Equal(t, conv(w.ResultTypes()), append([]api.ValueType{}, f.ResultTypes...), f.Name)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []wasi.Config{
		{Args: []string{"a\x00b"}},
		{Env: []string{"NOEQUALS"}},
		{Env: []string{"=v"}},
		{Preopens: []wasi.Preopen{{GuestPath: "/"}}},
		{Preopens: []wasi.Preopen{{GuestPath: "", FS: testFS()}}},
	} {
		_, err := wasi.New(cfg)
		require.ErrorIs(t, err, wasi.ErrConfig)
	}
	_, err := wasi.New(wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: testFS(), Writable: true}}})
	require.ErrorIs(t, err, wasi.ErrWritableUnsupported)
}

func TestArgsEnviron(t *testing.T) {
	g := newGuest(t, wasi.Config{Args: []string{"prog", "", "ç"}, Env: []string{"A=1", "B="}})
	require.Equal(t, wasi.ErrnoSuccess, g.call("args_sizes_get", 0, 4))
	require.Equal(t, uint32(3), g.u32(0))
	require.Equal(t, uint32(5+1+3), g.u32(4))
	require.Equal(t, wasi.ErrnoSuccess, g.call("args_get", 100, 200))
	require.Equal(t, []uint32{200, 205, 206}, []uint32{g.u32(100), g.u32(104), g.u32(108)})
	require.Equal(t, "prog\x00\x00ç\x00", string(g.mem[200:209]))
	require.Equal(t, wasi.ErrnoSuccess, g.call("environ_sizes_get", 0, 4))
	require.Equal(t, []uint32{2, 7}, []uint32{g.u32(0), g.u32(4)})
	require.Equal(t, wasi.ErrnoSuccess, g.call("environ_get", 300, 400))
	require.Equal(t, "A=1\x00B=\x00", string(g.mem[400:407]))

	for _, tc := range []struct {
		name string
		p    []uint64
	}{
		{"args_sizes_get", []uint64{65533, 0}},
		{"args_sizes_get", []uint64{0, 0xffffffff}},
		{"args_get", []uint64{65530, 0}},      // pointer array straddles the end
		{"args_get", []uint64{0, 65530}},      // strings straddle the end
		{"args_get", []uint64{0xfffffffc, 0}}, // would wrap in 32 bits
		{"environ_get", []uint64{0, 0xffffffff}},
		{"environ_sizes_get", []uint64{1 << 31, 0}},
	} {
		before := slices.Clone(g.mem)
		require.Equal(t, wasi.ErrnoFault, g.call(tc.name, tc.p...), "%s%v", tc.name, tc.p)
		require.Equal(t, before[60000:], g.mem[60000:], "nothing written near the end on a fault")
	}
}

func TestFdWrite(t *testing.T) {
	var out, errOut bytes.Buffer
	g := newGuest(t, wasi.Config{Stdout: &out, Stderr: &errOut})
	g.put(1000, []byte("hello world"))
	for _, tc := range []struct {
		name    string
		fd      uint32
		iovs    []uint32 // pairs written at 100
		count   uint32
		iovPtr  uint32
		resPtr  uint32
		want    wasi.Errno
		wantOut string
		wantN   uint32
	}{
		{name: "simple", fd: 1, iovs: []uint32{1000, 5}, count: 1, iovPtr: 100, resPtr: 8, wantOut: "hello", wantN: 5},
		{name: "overlapping", fd: 1, iovs: []uint32{1000, 5, 1002, 3, 1000, 11}, count: 3, iovPtr: 100, resPtr: 8,
			wantOut: "hellollohello world", wantN: 19},
		{name: "zero iovecs", fd: 1, count: 0, iovPtr: 100, resPtr: 8, wantN: 0},
		{name: "zero-length at end", fd: 1, iovs: []uint32{65536, 0}, count: 1, iovPtr: 100, resPtr: 8, wantN: 0},
		{name: "buffer out of range", fd: 1, iovs: []uint32{65530, 10}, count: 1, iovPtr: 100, resPtr: 8, want: wasi.ErrnoFault},
		{name: "buffer wraps", fd: 1, iovs: []uint32{0xfffffff0, 0x20}, count: 1, iovPtr: 100, resPtr: 8, want: wasi.ErrnoFault},
		{name: "second buffer bad: nothing written", fd: 1, iovs: []uint32{1000, 5, 70000, 1}, count: 2, iovPtr: 100, resPtr: 8, want: wasi.ErrnoFault},
		{name: "giant count", fd: 1, iovs: []uint32{1000, 5}, count: 0xffffffff, iovPtr: 100, resPtr: 8, want: wasi.ErrnoFault},
		{name: "iovec array out of range", fd: 1, count: 1, iovPtr: 65532, resPtr: 8, want: wasi.ErrnoFault},
		{name: "result out of range", fd: 1, iovs: []uint32{1000, 5}, count: 1, iovPtr: 100, resPtr: 65533, want: wasi.ErrnoFault},
		{name: "bad fd", fd: 99, iovs: []uint32{1000, 5}, count: 1, iovPtr: 100, resPtr: 8, want: wasi.ErrnoBadf},
		{name: "stdin", fd: 0, iovs: []uint32{1000, 5}, count: 1, iovPtr: 100, resPtr: 8, want: wasi.ErrnoBadf},
		{name: "fd wraps to negative", fd: 0xffffffff, count: 1, iovPtr: 100, resPtr: 8, want: wasi.ErrnoBadf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			g.t = t
			g.iovecs(100, tc.iovs...)
			g.mem.WriteUint32Le(8, 0xdead)
			require.Equal(t, tc.want, g.call("fd_write", uint64(tc.fd), uint64(tc.iovPtr), uint64(tc.count), uint64(tc.resPtr)))
			require.Equal(t, tc.wantOut, out.String())
			if tc.want == wasi.ErrnoSuccess {
				require.Equal(t, tc.wantN, g.u32(tc.resPtr))
			}
		})
	}
}

// TestFdWriteManyIovecs: more than 1024 iovecs give a short write, not a huge allocation.
func TestFdWriteManyIovecs(t *testing.T) {
	var out bytes.Buffer
	g := newGuest(t, wasi.Config{Stdout: &out})
	g.put(60000, []byte("ab"))
	for i := uint32(0); i < 2000; i++ {
		g.iovecs(100+8*i, 60000, 2)
	}
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", 1, 100, 2000, 8))
	require.Equal(t, uint32(2048), g.u32(8))
	require.Equal(t, strings.Repeat("ab", 1024), out.String())
}

// TestFdWriteLarge: a large buffer goes out in chunks, all of it.
func TestFdWriteLarge(t *testing.T) {
	var out bytes.Buffer
	g := newGuest(t, wasi.Config{Stdout: &out, Stderr: nil})
	g.mem = make(api.ByteMemory, 1<<20)
	for i := range g.mem {
		g.mem[i] = byte(i)
	}
	g.iovecs(0, 16, 1<<20-16)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", 1, 0, 1, 8))
	require.Equal(t, uint32(1<<20-16), g.u32(8))
	require.Equal(t, 1<<20-16, out.Len())
	// stderr is nil: discarded but counted.
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", 2, 0, 1, 8))
	require.Equal(t, uint32(1<<20-16), g.u32(8))
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

func TestFdWriteError(t *testing.T) {
	g := newGuest(t, wasi.Config{Stdout: errWriter{}})
	g.iovecs(100, 1000, 5)
	require.Equal(t, wasi.ErrnoIo, g.call("fd_write", 1, 100, 1, 8))
}

func TestFdReadStdin(t *testing.T) {
	g := newGuest(t, wasi.Config{Stdin: strings.NewReader("0123456789")})
	// Overlapping iovecs: the second overwrites part of the first.
	g.iovecs(100, 1000, 4, 1002, 4)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", 0, 100, 2, 8))
	require.Equal(t, uint32(8), g.u32(8))
	require.Equal(t, "014567", string(g.mem[1000:1006]))
	// Bad buffer: EFAULT and stdin is not consumed.
	g.iovecs(100, 65534, 4)
	require.Equal(t, wasi.ErrnoFault, g.call("fd_read", 0, 100, 1, 8))
	g.iovecs(100, 2000, 100)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", 0, 100, 1, 8))
	require.Equal(t, "89", string(g.mem[2000:2002]))
	require.Equal(t, uint32(2), g.u32(8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", 0, 100, 1, 8))
	require.Equal(t, uint32(0), g.u32(8), "EOF")
	// nil stdin is empty.
	g2 := newGuest(t, wasi.Config{})
	g2.iovecs(100, 2000, 100)
	require.Equal(t, wasi.ErrnoSuccess, g2.call("fd_read", 0, 100, 1, 8))
	require.Equal(t, uint32(0), g2.u32(8))
	require.Equal(t, wasi.ErrnoBadf, g2.call("fd_read", 1, 100, 1, 8))
}

func TestClockRandom(t *testing.T) {
	g := newGuest(t, wasi.Config{Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 100))})
	require.Equal(t, wasi.ErrnoSuccess, g.call("clock_time_get", 0, 0, 16))
	require.Equal(t, uint64(1700000000*1e9+5), g.u64(16))
	g.clock.mono = 42
	require.Equal(t, wasi.ErrnoSuccess, g.call("clock_time_get", 1, 0, 16))
	require.Equal(t, uint64(42), g.u64(16))
	require.Equal(t, wasi.ErrnoInval, g.call("clock_time_get", 2, 0, 16))
	require.Equal(t, wasi.ErrnoFault, g.call("clock_time_get", 0, 0, 65530))
	require.Equal(t, wasi.ErrnoSuccess, g.call("clock_res_get", 1, 16))
	require.Equal(t, wasi.ErrnoInval, g.call("clock_res_get", 3, 16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("random_get", 100, 10))
	require.Equal(t, bytes.Repeat([]byte{7}, 10), []byte(g.mem[100:110]))
	require.Equal(t, wasi.ErrnoFault, g.call("random_get", 65530, 10))
	require.Equal(t, wasi.ErrnoFault, g.call("random_get", 0, 0xffffffff))
	require.Equal(t, wasi.ErrnoIo, g.call("random_get", 0, 200), "source exhausted")
}

func TestProcExitAndUnsupported(t *testing.T) {
	g := newGuest(t, wasi.Config{})
	stack := []uint64{7}
	err := g.fns["proc_exit"].Fn(context.Background(), g.mem, stack)
	var exit *api.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, uint32(7), exit.Code)
	require.Equal(t, wasi.ErrnoNosys, g.call("sock_accept", 3, 0, 0))
	require.Equal(t, wasi.ErrnoNosys, g.call("sock_recv", 3, 0, 0, 0, 0, 0))
	require.Equal(t, wasi.ErrnoNosys, g.call("sock_send", 3, 0, 0, 0, 0))
	require.Equal(t, wasi.ErrnoNosys, g.call("sock_shutdown", 3, 0))
	require.Equal(t, wasi.ErrnoNosys, g.call("proc_raise", 9))
	require.Equal(t, wasi.ErrnoSuccess, g.call("sched_yield"))
}

// TestNilMemory: a caller without memory gets EFAULT, never a panic.
func TestNilMemory(t *testing.T) {
	funcs, err := wasi.New(wasi.Config{Args: []string{"x"}})
	require.NoError(t, err)
	for _, f := range funcs {
		stack := make([]uint64, max(len(f.ParamTypes), 1))
		err := f.Fn(context.Background(), nil, stack)
		if f.Name == "proc_exit" {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err, f.Name)
	}
	stack := []uint64{0, 4}
	require.NoError(t, funcs[1].Fn(context.Background(), nil, stack)) // args_sizes_get
	require.Equal(t, uint64(wasi.ErrnoFault), stack[0])
}

var _ io.Reader = (*strings.Reader)(nil)
