package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
)

// Guest-side buffering (the micro-VM engine; internal/machine.GuestIO, wasmguest/rt/io.c).
// With it the guest runtime itself answers the calls buffering.go would batch or serve from a
// window, so they cost no host call at all:
//
//   - fd_write of at most abi.IODirectMax bytes on a descriptor GuestPublish lists as stdout
//     or stderr is appended to a batch of abi.IOBatchSize bytes in guest memory (one stream kind at a time), and
//     answered at once. GuestDrain, called before every host call of any kind and when each
//     request ends, appends the batch to the instance's own batch (ingest) exactly as those
//     writes would have been, so from there every rule of buffering.go applies unchanged. A
//     stream with a write error not yet reported is flagged, so its next fd_write comes to the
//     host, which reports it.
//   - fd_read of at most readAheadMax bytes of a regular file that the host serves fills a
//     window of abi.IOWinSize bytes in guest memory from the file's offset (one ReadAt), and
//     answers the read from it; later reads inside the window (or at the file's end, when the
//     window reached it) are answered by the guest. GuestDrain turns the window's consumed
//     count into the descriptor's offset before any host function runs, so offsets are exactly
//     those of plain reads. Windows are dropped when buffering.go drops its read-ahead buffers
//     (every non-neutral function, a seek of that descriptor other than a tell, a read of it the
//     host serves itself, fd_close, the end of the request).
//
// What the guest writes there is checked against what the host gave (batch length and kind,
// consumed counts); a lie fails the request.

// ErrGuestIO: the guest reported impossible guest-side I/O state.
var ErrGuestIO = errors.New("wasi: inconsistent guest I/O state")

// guestWindow is a read window the host filled in guest memory.
type guestWindow struct {
	e    *fdEntry
	fd   uint32
	base int64  // the file offset of the window's first byte
	n    uint32 // bytes in the window
	pos  uint32 // consumed, as the host last knew it
	eof  bool
}

// guestIO is an instance's guest-side buffering state. With in.mu held.
type guestIO struct {
	view api.Memory // from GuestDrain until GuestPublish (fd_read fills windows through it)
	win  [abi.IOWindows]guestWindow
	next int // round robin when every window is taken
	buf  []byte
}

// io offsets relative to the view's start (abi.MailboxAddr).
const (
	ioBatchOff = abi.IOBatchAddr - abi.MailboxAddr
	ioWinOff   = abi.IOWinAddr - abi.MailboxAddr
)

// GuestDrain takes what the guest runtime buffered since the last GuestPublish: its batched
// output is appended to the instance's batch (as the writes it answered), and each read
// window's consumed count becomes its descriptor's offset. With end, the request is over and
// every window is dropped. An error names a value the guest could not have produced honestly.
func (in *Instance) GuestDrain(ctx context.Context, view api.Memory, end bool) error {
	if !in.isBuffered() {
		return nil
	}
	n, ok1 := view.ReadUint32Le(abi.MbIOBatchLen)
	kind, ok2 := view.ReadUint32Le(abi.MbIOBatchKind)
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: the I/O area is not readable", ErrGuestIO)
	}
	var err error
	if n > 0 {
		var data []byte
		var ok bool
		if n <= abi.IOBatchSize {
			data, ok = view.Read(ioBatchOff, n)
		}
		k := fdKind(kind)
		in.mu.Lock()
		listed := (k == kindStdout || k == kindStderr) && in.hasStdio(k)
		in.mu.Unlock()
		if !ok || !listed {
			err = fmt.Errorf("%w: guest reported a batch of %d bytes for stream kind %d", ErrGuestIO, n, kind)
		} else {
			in.ingest(ctx, k, data)
		}
		view.WriteUint32Le(abi.MbIOBatchLen, 0)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	g := &in.gio
	for i := range g.win {
		w := &g.win[i]
		if w.e == nil {
			continue
		}
		pos, ok := view.ReadUint32Le(abi.MbIOWinPos + 4*uint32(i))
		if !ok || pos > w.n {
			err = errors.Join(err, fmt.Errorf("%w: guest reported %d bytes consumed of a %d-byte window", ErrGuestIO, pos, w.n))
			pos = w.pos
		}
		if in.lookup(w.fd) == w.e {
			w.e.offset = w.base + int64(pos)
		}
		w.pos = pos
	}
	if end {
		in.dropGuestWindows()
		g.view = nil
	} else {
		g.view = view
	}
	return err
}

// GuestPublish writes for the guest runtime which descriptors it may batch (stdout and stderr
// kinds, up to abi.IOOutFds), which streams have a write error to report, and the read
// windows. Fields are written only when they change.
func (in *Instance) GuestPublish(view api.Memory, end bool) {
	set := func(off, v uint32) {
		if old, ok := view.ReadUint32Le(off); ok && old != v {
			view.WriteUint32Le(off, v)
		}
	}
	in.mu.Lock()
	buffered := in.buffered
	var fds, kinds [abi.IOOutFds]uint32
	n := 0
	for fd, e := range in.fds {
		if buffered && e != nil && (e.kind == kindStdout || e.kind == kindStderr) && n < abi.IOOutFds {
			fds[n], kinds[n] = uint32(fd), uint32(e.kind)
			n++
		}
	}
	if end {
		in.dropGuestWindows()
	}
	g := &in.gio
	g.view = nil
	for i := range g.win {
		w := &g.win[i]
		set(abi.MbIOWinLen+4*uint32(i), w.n)
		if w.e != nil {
			set(abi.MbIOWinFd+4*uint32(i), w.fd)
			set(abi.MbIOWinEOF+4*uint32(i), b2u(w.eof))
			set(abi.MbIOWinPos+4*uint32(i), w.pos)
		}
	}
	in.mu.Unlock()
	for i := range fds {
		set(abi.MbIOOutFd+4*uint32(i), fds[i])
		set(abi.MbIOOutKind+4*uint32(i), kinds[i])
	}
	b := &in.batch
	b.mu.Lock()
	var errs uint32
	for i, e := range b.failed {
		if e != nil {
			errs |= 1 << (uint32(kindStdout) + uint32(i))
		}
	}
	b.mu.Unlock()
	set(abi.MbIOErrKinds, errs)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// hasStdio says whether a descriptor of kind k is open. With in.mu held.
func (in *Instance) hasStdio(k fdKind) bool {
	for _, e := range in.fds {
		if e != nil && e.kind == k {
			return true
		}
	}
	return false
}

// dropGuestWindows forgets every read window (their offsets are already synced). With in.mu held.
func (in *Instance) dropGuestWindows() {
	for i := range in.gio.win {
		in.gio.win[i] = guestWindow{}
	}
}

// dropGuestWindow forgets e's read window. With in.mu held.
func (in *Instance) dropGuestWindow(e *fdEntry) {
	for i := range in.gio.win {
		if in.gio.win[i].e == e {
			in.gio.win[i] = guestWindow{}
		}
	}
}

// ingest appends output the guest runtime batched (stream kind k) to the batch, as batchWrite
// would have appended those writes: the batch is written first if it holds another stream's
// bytes or would overflow; a write error is kept for the stream's next fd_write.
func (in *Instance) ingest(ctx context.Context, k fdKind, data []byte) {
	s := in.stdio(ctx, k)
	if s == nil {
		return // no writer: the bytes go nowhere, as writeFrom with a nil writer
	}
	b := &in.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > 0 && (b.s != s || b.kind != k || len(b.buf)+len(data) > batchCap) {
		// The batch must go before these bytes join it, even when the call's context has ended
		// (the guest's batch is drained at every end): detached, bounded as Flush is.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		if err := b.flushLocked(fctx); errCtx(fctx, err) {
			b.failed[b.kind-kindStdout] = err // the writer is stuck: what it did not take is lost
			b.buf = nil
		}
		cancel()
	}
	if len(b.buf) == 0 && len(data) > batchCap {
		b.buf = data // api.Memory.Read's copy: the guest rewrites its batch once it runs again
	} else {
		if b.buf == nil {
			b.buf = make([]byte, 0, batchCap)
		}
		b.buf = append(b.buf, data...)
	}
	b.s, b.kind = s, k
}

// guestRead serves a small fd_read of e (descriptor fd, a regular file readable at offsets)
// through a window in guest memory: one ReadAt of abi.IOWinSize bytes from e's offset, the
// request answered from it, the rest left for the guest. ok is false when no window can be
// used (then the caller reads as usual). With in.mu held.
func (in *Instance) guestRead(ctx context.Context, m api.Memory, e *fdEntry, fd uint32, ra io.ReaderAt, iovs []iovec) (uint32, Errno, bool) {
	g := &in.gio
	if g.view == nil || !in.buffered || !in.guestWindowOK(ctx, e) {
		return 0, 0, false
	}
	want := uint64(0)
	for _, v := range iovs {
		want += uint64(v.len)
	}
	if want > readAheadMax {
		return 0, 0, false
	}
	slot := -1
	for i := range g.win {
		if g.win[i].e == e {
			slot = i
		}
	}
	for i := range g.win {
		if slot < 0 && g.win[i].e == nil {
			slot = i
		}
	}
	if slot < 0 {
		slot, g.next = g.next, (g.next+1)%abi.IOWindows
	}
	if g.buf == nil {
		g.buf = make([]byte, abi.IOWinSize)
	}
	base := e.offset
	got, rerr := ra.ReadAt(g.buf, base)
	g.win[slot] = guestWindow{}
	pos := 0
	src := func(b []byte) (int, error) {
		c := copy(b, g.buf[pos:got])
		pos += c
		if c < len(b) {
			if rerr == nil {
				rerr = io.EOF // cannot happen: the window is larger than any request it serves
			}
			return c, rerr
		}
		return c, nil
	}
	n, errno := readInto(m, iovs, src)
	e.offset = base + int64(pos)
	if errno != ErrnoSuccess || (rerr != nil && !errors.Is(rerr, io.EOF)) || got == 0 {
		return n, errno, true // no window: what ReadAt gave is served, the rest read again
	}
	if !g.view.Write(ioWinOff+uint32(slot)*abi.IOWinSize, g.buf[:got]) {
		return n, errno, true
	}
	g.win[slot] = guestWindow{e: e, fd: fd, base: base, n: uint32(got), pos: uint32(pos), eof: rerr != nil}
	return n, errno, true
}

// guestWindowOK says whether e may get a guest read window: a regular file, and not the file
// this call's stdout or stderr writes to (the Config's or a WithStdio context's: the program
// must read its own output). With in.mu held.
func (in *Instance) guestWindowOK(ctx context.Context, e *fdEntry) bool {
	fi, err := e.stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, s := range []*stream{in.stdio(ctx, kindStdout), in.stdio(ctx, kindStderr)} {
		if s != nil && s.regular && (s.fi == nil || os.SameFile(fi, s.fi)) {
			return false
		}
	}
	return true
}
