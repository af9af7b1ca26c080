package wasi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
)

// write makes one fd_write of s on fd (data at 1000, iovec at 100, count at 8).
func (g *guest) write(fd uint64, s string) wasi.Errno {
	g.t.Helper()
	g.put(1000, []byte(s))
	g.iovecs(100, 1000, uint32(len(s)))
	return g.call("fd_write", fd, 100, 1, 8)
}

func bufferedGuest(t *testing.T, cfg wasi.Config) *guest {
	g := newGuest(t, cfg)
	g.in.EnableBuffering()
	return g
}

// TestBatchFlushPoints: batched output reaches the writer at each flush point, in order, and
// not before: a write to the other descriptor, a read of stdin, sched_yield, proc_exit, Flush.
func TestBatchFlushPoints(t *testing.T) {
	var out bytes.Buffer
	g := bufferedGuest(t, wasi.Config{Stdout: &out, Stderr: &out, Stdin: bytes.NewReader([]byte("in"))})
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "a"))
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "b"))
	require.Equal(t, uint32(1), g.u32(8), "nwritten of a batched write")
	require.Empty(t, out.String(), "batched")
	require.Equal(t, wasi.ErrnoSuccess, g.write(2, "c"))
	require.Equal(t, "ab", out.String(), "flushed before a write to the other descriptor")
	require.Equal(t, wasi.ErrnoSuccess, g.call("args_sizes_get", 16, 20), "neutral")
	require.Equal(t, wasi.ErrnoSuccess, g.call("random_get", 16, 4), "neutral")
	require.Equal(t, "ab", out.String(), "c still batched")
	g.iovecs(100, 2000, 10)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", 0, 100, 1, 8))
	require.Equal(t, "abc", out.String(), "flushed before reading stdin")

	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "d"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("sched_yield"))
	require.Equal(t, "abcd", out.String(), "flushed before sched_yield")

	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "e"))
	_, err := callRaw(t, g.in, context.Background(), g.mem, "proc_exit", 0)
	require.Error(t, err)
	require.Equal(t, "abcde", out.String(), "flushed by proc_exit")

	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "f"))
	require.NoError(t, g.in.Flush(context.Background()))
	require.Equal(t, "abcdef", out.String())

	// A big write goes straight through, after what was batched.
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "g"))
	big := string(bytes.Repeat([]byte{'x'}, 9000))
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, big))
	require.Equal(t, "abcdefg"+big, out.String())
}

// TestBatchFlushAfterDeadline: Flush writes even when the call's context has ended.
func TestBatchFlushAfterDeadline(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	g := bufferedGuest(t, wasi.Config{Stdout: w})
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "late"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, g.in.Flush(ctx))
	got := make([]byte, 10)
	n, err := r.Read(got)
	require.NoError(t, err)
	require.Equal(t, "late", string(got[:n]))
}

// nospcWriter fails every write.
type nospcWriter struct{ writes int }

func (w *nospcWriter) Write([]byte) (int, error) { w.writes++; return 0, syscall.ENOSPC }

// TestBatchWriteError: the error of a batch's host write reaches the program's next fd_write
// on that stream (once), or Flush when there is none.
func TestBatchWriteError(t *testing.T) {
	ew := &nospcWriter{}
	var errOut bytes.Buffer
	g := bufferedGuest(t, wasi.Config{Stdout: ew, Stderr: &errOut})
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "lost"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("clock_time_get", 0, 1, 16), "not neutral: flushes")
	require.Equal(t, 1, ew.writes)
	require.Equal(t, wasi.ErrnoSuccess, g.write(2, "other stream"), "stderr is not told of stdout's error")
	require.Equal(t, wasi.ErrnoNospc, g.write(1, "next"), "the program learns of the error")
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "again"), "reported once; this one is batched")
	err := g.in.Flush(context.Background())
	require.ErrorIs(t, err, wasi.ErrOutput, "the program ended without learning of it: the host does")
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, g.in.Flush(context.Background()), "reported once")
	require.Equal(t, "other stream", errOut.String())
}

// countingFS counts ReadAt calls on its files.
type countingFS struct {
	fs.FS
	readAts *int
}

type countingFile struct {
	fs.File
	readAts *int
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c.readAts}, nil
}

func (f countingFile) ReadAt(b []byte, off int64) (int, error) {
	*f.readAts++
	return f.File.(io.ReaderAt).ReadAt(b, off)
}

// TestReadAheadFewerReads: 64-byte reads of a 100 KB file come from a few host reads, with
// the file's bytes, and end at EOF like any read; a short file is read whole.
func TestReadAheadFewerReads(t *testing.T) {
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	n := 0
	g := bufferedGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: countingFS{fstest.MapFS{
		"big": {Data: data}, "short": {Data: []byte("tiny")}}, &n}}}})
	e, fd := g.open(3, "big", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	var got []byte
	for {
		g.iovecs(100, 2000, 64)
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(fd), 100, 1, 8))
		if g.u32(8) == 0 {
			break
		}
		got = append(got, g.mem[2000:2000+g.u32(8)]...)
	}
	require.Equal(t, data, got)
	require.LessOrEqual(t, n, len(data)/(64<<10)+3, "host reads")

	e, fd = g.open(3, "short", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	g.iovecs(100, 2000, 3, 2100, 64)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(fd), 100, 2, 8))
	require.Equal(t, uint32(4), g.u32(8))
	require.Equal(t, "tin", string(g.mem[2000:2003]))
	require.Equal(t, "y", string(g.mem[2100:2101]))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(fd), 100, 2, 8))
	require.Equal(t, uint32(0), g.u32(8), "EOF")
}

// TestReadAheadSameAsWithout: a random mix of small and large reads, preads, seeks, appends
// and overwrites through other descriptors of the same file gives, with read-ahead, exactly the
// results (errno, count, bytes, offsets) it gives without.
func TestReadAheadSameAsWithout(t *testing.T) {
	setup := func(buffered bool) *guest {
		dir := t.TempDir()
		init := make([]byte, 70_000)
		for i := range init {
			init[i] = byte(i % 251)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), init, 0o644))
		root, err := os.OpenRoot(dir)
		require.NoError(t, err)
		t.Cleanup(func() { root.Close() })
		g := newGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(root), Writable: true}}})
		if buffered {
			g.in.EnableBuffering()
		}
		return g
	}
	plain, buf := setup(false), setup(true)
	// fds: 4 reader, 5 appender, 6 writer (overwrites in place).
	for _, g := range []*guest{plain, buf} {
		e, fd := g.open(3, "f", 0, 0, rightFdRead)
		require.Equal(t, wasi.ErrnoSuccess, e)
		require.Equal(t, uint32(4), fd)
		g.put(4096, []byte("f"))
		require.Equal(t, wasi.ErrnoSuccess, g.call("path_open", 3, 0, 4096, 1, 0, rightFdWrite, 0, fdflagAppend, 8))
		e, fd = g.open(3, "f", 0, 0, rightFdWrite)
		require.Equal(t, wasi.ErrnoSuccess, e)
		require.Equal(t, uint32(6), fd)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 3000 {
		var op []uint64
		name := ""
		var payload []byte
		switch k := r.IntN(11); {
		case k < 6: // small read, sometimes over two iovecs, sometimes larger than read-ahead serves
			n := uint32(1 + r.IntN(700))
			if r.IntN(10) == 0 {
				n = uint32(5000 + r.IntN(20000))
			}
			name, op = "fd_read", []uint64{4, 100, 2, 8}
			for _, g := range []*guest{plain, buf} {
				g.iovecs(100, 8192, n/2, 40000, n-n/2)
			}
		case k < 7:
			name, op = "fd_pread", []uint64{4, 100, 1, uint64(r.IntN(80_000)), 8}
			n := uint32(1 + r.IntN(600))
			for _, g := range []*guest{plain, buf} {
				g.iovecs(100, 8192, n)
			}
		case k < 8:
			name, op = "fd_seek", []uint64{4, uint64(int64(r.IntN(2000) - 1000)), uint64(r.IntN(3)), 16}
			if r.IntN(2) == 0 { // anywhere in the file (which grows past 70,000 bytes)
				op[1], op[2] = uint64(r.IntN(75_000)), 0
			}
		case k < 9:
			payload = []byte(fmt.Sprintf("<append %d>", step))
			name, op = "fd_write", []uint64{5, 100, 1, 8}
		case k < 10:
			payload = []byte(fmt.Sprintf("<over %d>", step))
			name, op = "fd_pwrite", []uint64{6, 100, 1, uint64(r.IntN(72_000)), 8}
		default:
			name, op = "fd_tell", []uint64{4, 16}
		}
		var res [2][]byte
		for i, g := range []*guest{plain, buf} {
			if name == "fd_write" || name == "fd_pwrite" {
				g.put(1000, payload)
				g.iovecs(100, 1000, uint32(len(payload)))
			}
			clear(g.mem[8192 : 8192+30000])
			clear(g.mem[40000:65000])
			e := g.call(name, op...)
			res[i] = append(fmt.Appendf(nil, "%d %d %d|", e, g.u32(8), g.u64(16)), g.mem[8192:65000]...)
		}
		if !bytes.Equal(res[0], res[1]) {
			t.Fatalf("step %d: %s%v differs with read-ahead:\n%q\n%q", step, name, op, res[0][:60], res[1][:60])
		}
	}
	for _, g := range []*guest{plain, buf} {
		require.NoError(t, g.in.Flush(context.Background()))
	}
}

// TestBatchToRegularFileReadBack: when stdout is a regular file, a program reading that file
// sees what it wrote (the batch is written first); reading another file leaves the batch.
func TestBatchToRegularFileReadBack(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.txt"), []byte("other"), 0o644))
	out, err := os.Create(filepath.Join(dir, "out.txt"))
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	g := bufferedGuest(t, wasi.Config{Stdout: out, Preopens: []wasi.Preopen{{GuestPath: "/", FS: root.FS()}}})
	e, other := g.open(3, "other.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	e, self := g.open(3, "out.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, wasi.ErrnoSuccess, g.write(1, "mine"))
	g.iovecs(100, 2000, 64)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(other), 100, 1, 8))
	require.Equal(t, "other", string(g.mem[2000:2000+g.u32(8)]))
	onDisk, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	require.NoError(t, err)
	require.Empty(t, onDisk, "still batched: another file was read")
	g.iovecs(100, 2000, 64)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(self), 100, 1, 8))
	require.Equal(t, "mine", string(g.mem[2000:2000+g.u32(8)]), "the program reads its own output")
}

// BenchmarkCatHostSide is the host side of zig-cc's cat: fd_read of 512 bytes from a file and
// fd_write of them to stdout, with and without buffering (no VM: what a host call costs the
// host on top of crossing the VM boundary).
func BenchmarkCatHostSide(b *testing.B) {
	dir := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(dir, "f"), make([]byte, 1<<20), 0o644))
	root, err := os.OpenRoot(dir)
	require.NoError(b, err)
	defer root.Close()
	for _, buffered := range []bool{false, true} {
		b.Run(fmt.Sprintf("buffered=%v", buffered), func(b *testing.B) {
			out, err := os.Create(filepath.Join(b.TempDir(), "out"))
			require.NoError(b, err)
			defer out.Close()
			g := newGuest(&testing.T{}, wasi.Config{Stdout: out, Preopens: []wasi.Preopen{{GuestPath: "/", FS: root.FS()}}})
			if buffered {
				g.in.EnableBuffering()
			}
			e, fd := g.open(3, "f", 0, 0, rightFdRead)
			require.Equal(b, wasi.ErrnoSuccess, e)
			read, write := g.fns["fd_read"].Fn, g.fns["fd_write"].Fn
			g.iovecs(100, 2000, 512)
			stack := make([]uint64, 4)
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if i%2048 == 0 { // back to the start of the 1 MiB file
					stack[0], stack[1], stack[2], stack[3] = uint64(fd), 0, 0, 16
					_ = g.fns["fd_seek"].Fn(ctx, g.mem, stack)
				}
				stack[0], stack[1], stack[2], stack[3] = uint64(fd), 100, 1, 8
				_ = read(ctx, g.mem, stack)
				stack[0], stack[1], stack[2], stack[3] = 1, 100, 1, 8
				_ = write(ctx, g.mem, stack)
			}
			_ = g.in.Flush(ctx)
		})
	}
}
