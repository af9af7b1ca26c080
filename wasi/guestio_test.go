package wasi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/wasi"
)

// ioView is a stand-in for a machine's [MailboxAddr, IOEnd) view.
func ioView() view { return view{make(api.ByteMemory, abi.IOEnd-abi.MailboxAddr)} }

const (
	batchOff = abi.IOBatchAddr - abi.MailboxAddr
	winOff   = abi.IOWinAddr - abi.MailboxAddr
)

// TestGuestDrainBatch: what the guest batched reaches stdout at Flush; the descriptors GuestPublish
// lists are the stdout/stderr ones; lies about the batch (length, kind, a closed stream) are
// ErrGuestIO and write nothing.
func TestGuestDrainBatch(t *testing.T) {
	ctx := context.Background()
	var out, errOut bytes.Buffer
	g := bufferedGuest(t, wasi.Config{Stdout: &out, Stderr: &errOut})
	v := ioView()
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, []uint32{1, 1, 2, 2}, []uint32{v.u32(abi.MbIOOutFd), v.u32(abi.MbIOOutKind), v.u32(abi.MbIOOutFd + 4), v.u32(abi.MbIOOutKind + 4)})

	copy(v.ByteMemory[batchOff:], "hello")
	v.put32(abi.MbIOBatchLen, 5)
	v.put32(abi.MbIOBatchKind, abi.IOKindStdout)
	require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
	require.Zero(t, v.u32(abi.MbIOBatchLen), "the host takes the batch")
	g.in.GuestPublish(v.ByteMemory, false)
	require.NoError(t, g.in.Flush(ctx))
	require.Equal(t, "hello", out.String())

	for _, lie := range []struct{ n, kind uint32 }{{abi.IOBatchSize + 1, 1}, {0xffffffff, 1}, {3, 0}, {3, 7}, {3, 0xffffffff}} {
		v.put32(abi.MbIOBatchLen, lie.n)
		v.put32(abi.MbIOBatchKind, lie.kind)
		require.ErrorIs(t, g.in.GuestDrain(ctx, v.ByteMemory, false), wasi.ErrGuestIO, "%+v", lie)
		g.in.GuestPublish(v.ByteMemory, false)
	}
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", 2))
	g.in.GuestPublish(v.ByteMemory, false)
	require.Zero(t, v.u32(abi.MbIOOutKind+4), "stderr is no longer listed")
	copy(v.ByteMemory[batchOff:], "late")
	v.put32(abi.MbIOBatchLen, 4)
	v.put32(abi.MbIOBatchKind, abi.IOKindStderr)
	require.ErrorIs(t, g.in.GuestDrain(ctx, v.ByteMemory, true), wasi.ErrGuestIO, "a batch for a closed stream")
	require.NoError(t, g.in.Flush(ctx))
	require.Equal(t, "hello", out.String())
	require.Empty(t, errOut.String())
}

// TestGuestDrainCopiesTheBatch: a guest batch larger than the host's batch is kept whole by the
// host (a copy, never guest memory): the guest reuses its batch as soon as it runs again,
// before the host writes the bytes.
func TestGuestDrainCopiesTheBatch(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	g := bufferedGuest(t, wasi.Config{Stdout: &out})
	v := ioView()
	g.in.GuestPublish(v.ByteMemory, false)
	want := bytes.Repeat([]byte("0123456789abcdef"), abi.IOBatchSize/16) // 256 KiB > the host's 64 KiB batch
	copy(v.ByteMemory[batchOff:], want)
	v.put32(abi.MbIOBatchLen, uint32(len(want)))
	v.put32(abi.MbIOBatchKind, abi.IOKindStdout)
	require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
	g.in.GuestPublish(v.ByteMemory, false)
	copy(v.ByteMemory[batchOff:], bytes.Repeat([]byte{'X'}, len(want))) // the guest batches again
	require.NoError(t, g.in.Flush(ctx))
	require.Equal(t, want, out.Bytes())
}

type view struct{ api.ByteMemory }

func (m view) u32(off uint32) uint32 { return binary.LittleEndian.Uint32(m.ByteMemory[off:]) }
func (m view) put32(off, v uint32)   { binary.LittleEndian.PutUint32(m.ByteMemory[off:], v) }

// TestGuestWindowLies: a read served by the host fills a window in guest memory; an honest
// consumed count becomes the offset, a count beyond the window is ErrGuestIO and leaves the
// offset; random garbage in the whole shared area never panics and is only ever ErrGuestIO.
func TestGuestWindowLies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i % 253)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	g := bufferedGuest(t, wasi.Config{Stdout: &bytes.Buffer{}, Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(root)}}})
	e, fd := g.open(3, "f", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	v := ioView()
	tell := func() uint64 {
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", uint64(fd), 16))
		return g.u64(16)
	}
	read := func(n uint32) {
		g.iovecs(100, 8192, n)
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", uint64(fd), 100, 1, 8))
		require.Equal(t, n, g.u32(8))
	}
	require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
	read(100)
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, fd, v.u32(abi.MbIOWinFd))
	require.Equal(t, uint32(abi.IOWinSize), v.u32(abi.MbIOWinLen))
	require.Equal(t, uint32(100), v.u32(abi.MbIOWinPos))
	require.Equal(t, data[:abi.IOWinSize], []byte(v.ByteMemory[winOff:winOff+abi.IOWinSize]))

	v.put32(abi.MbIOWinPos, 5000) // the guest served 4900 bytes itself
	require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
	require.Equal(t, uint64(5000), tell()) // fd_tell keeps the window
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, uint32(abi.IOWinSize), v.u32(abi.MbIOWinLen))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_seek", uint64(fd), 0, 1, 16))    // neither does a seek by 0
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_seek", uint64(fd), 5000, 0, 16)) // a seek drops it
	g.in.GuestPublish(v.ByteMemory, false)
	require.Zero(t, v.u32(abi.MbIOWinLen))

	require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
	read(100) // a new window from 5000
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, data[5000:5000+abi.IOWinSize], []byte(v.ByteMemory[winOff:winOff+abi.IOWinSize]))
	v.put32(abi.MbIOWinPos, abi.IOWinSize+1)
	require.ErrorIs(t, g.in.GuestDrain(ctx, v.ByteMemory, false), wasi.ErrGuestIO)
	require.Equal(t, uint64(5100), tell(), "a lie leaves the offset")
	g.in.GuestPublish(v.ByteMemory, false)

	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		switch r.IntN(4) {
		case 0: // garbage over the control fields
			for off := abi.MbIOFlags; off < abi.MbStatIOLocal; off += 4 {
				v.put32(uint32(off), r.Uint32()>>(r.IntN(32)))
			}
		case 1:
			v.put32(uint32(abi.MbIOWinPos+4*r.IntN(abi.IOWindows)), r.Uint32()>>(r.IntN(32)))
		case 2:
			v.put32(abi.MbIOBatchLen, r.Uint32()>>(r.IntN(32)))
		}
		if err := g.in.GuestDrain(ctx, v.ByteMemory, i%50 == 0); err != nil {
			require.ErrorIs(t, err, wasi.ErrGuestIO)
		}
		if r.IntN(3) == 0 {
			g.iovecs(100, 8192, uint32(1+r.IntN(3000)))
			g.call("fd_read", uint64(fd), 100, 1, 8)
		}
		g.in.GuestPublish(v.ByteMemory, false)
		require.LessOrEqual(t, tell(), uint64(len(data)+abi.IOWinSize))
	}
	_ = g.in.Flush(ctx)
}

// TestGuestPublishFollowsRenumber: the batched descriptors are the host's table as it is now:
// after fd_renumber(1, 2) stdout is fd 2 and fd 1 is not batched.
func TestGuestPublishFollowsRenumber(t *testing.T) {
	g := bufferedGuest(t, wasi.Config{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	v := ioView()
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, []uint32{1, abi.IOKindStdout, 2, abi.IOKindStderr},
		[]uint32{v.u32(abi.MbIOOutFd), v.u32(abi.MbIOOutKind), v.u32(abi.MbIOOutFd + 4), v.u32(abi.MbIOOutKind + 4)})
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_renumber", 1, 2))
	g.in.GuestPublish(v.ByteMemory, false)
	require.Equal(t, []uint32{2, abi.IOKindStdout, 0, 0},
		[]uint32{v.u32(abi.MbIOOutFd), v.u32(abi.MbIOOutKind), v.u32(abi.MbIOOutFd + 4), v.u32(abi.MbIOOutKind + 4)})
}

// TestGuestWindowNotOnOwnOutput: a file the call's stdout writes to gets no read window, whether
// stdout is the Config's or a WithStdio context's (the guest would answer reads of its own
// output from a stale copy while its writes sit in its batch); another file does get one.
func TestGuestWindowNotOnOwnOutput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"out", "other"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte("x"), 1000), 0o644))
	}
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	outFile, err := os.OpenFile(filepath.Join(dir, "out"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	t.Cleanup(func() { outFile.Close() })

	for _, viaCtx := range []bool{false, true} {
		cfg := wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(root)}}}
		ctx := context.Background()
		if viaCtx {
			cfg.Stdout = &bytes.Buffer{}
			ctx = wasi.WithStdio(ctx, wasi.Stdio{Stdout: outFile})
		} else {
			cfg.Stdout = outFile
		}
		g := bufferedGuest(t, cfg)
		windowAfterRead := func(name string) uint32 {
			e, fd := g.open(3, name, 0, 0, rightFdRead)
			require.Equal(t, wasi.ErrnoSuccess, e)
			v := ioView()
			require.NoError(t, g.in.GuestDrain(ctx, v.ByteMemory, false))
			g.iovecs(100, 8192, 10)
			require.Equal(t, wasi.ErrnoSuccess, g.callCtx(ctx, "fd_read", uint64(fd), 100, 1, 8))
			g.in.GuestPublish(v.ByteMemory, false)
			require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", uint64(fd)))
			return v.u32(abi.MbIOWinLen)
		}
		require.Zero(t, windowAfterRead("out"), "stdout's file (via context: %v)", viaCtx)
		require.Equal(t, uint32(1000), windowAfterRead("other"), "via context: %v", viaCtx)
		require.NoError(t, g.in.Flush(ctx))
	}
}
