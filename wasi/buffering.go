package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/hlwasm/hlwasm/api"
)

// Buffering (Instance.EnableBuffering) saves host work on the two patterns real programs spend
// their I/O calls on, without changing what the program can observe:
//
//   - Small writes to stdout and stderr (at most batchDirect bytes each) are collected in one
//     batch of at most batchCap bytes and written as one host write. The batch is flushed
//     when it would overflow; before a write to the other descriptor or stream, or a larger
//     write; before every WASI function except the neutral ones (funcDef.neutral: reads and
//     seeks of regular files, argument and environment queries, fd_fdstat_get, random_get), so
//     before any read of stdin, sleep, poll, proc_exit, opening or changing a file; before a
//     read or seek of the very file stdout or stderr is, when that is a regular file (the
//     program would miss its own output); by Sync, which the engine calls before host
//     functions of its own; and by Flush, which the engine calls when each call ends however
//     it ends (return, trap, proc_exit, deadline), so no output is lost.
//   - Small reads of regular files (at most readAheadMax bytes) are served from a host-side
//     buffer of readAheadSize bytes filled by one ReadAt: the same bytes at the same offsets
//     as without it. Buffers are dropped by every non-neutral function (any write or change
//     through the instance, sleeps, polls, stdin), by seeks on their descriptor and by Flush.
//
// On micro-VMs the guest runtime answers most of those calls itself, with no host call
// (guestio.go): its batch joins this one at the next host call or the end of the request, and
// its read windows are synced to the descriptors' offsets before any function runs.
//
// Write errors: a batched write returns success before the host write happens. When the
// batch's host write fails, the error is reported, with its errno, to the program's next
// fd_write on that stream (which then writes nothing); if the program writes no more, Flush
// returns it wrapped in ErrOutput, so the host learns that output was lost. A program therefore
// sees a write error at most one batch late, never not at all. Writers that cannot fail
// (bytes.Buffer, strings.Builder, io.Discard) make the difference moot.
const (
	batchCap      = 64 << 10
	batchDirect   = 8 << 10
	readAheadSize = 64 << 10
	readAheadMax  = 8 << 10
	// maxReadAheads bounds the read-ahead buffers of one instance (and so its memory).
	maxReadAheads = 16
	// flushTimeout bounds a flush made after the call's context ended (a deadline must not
	// lose output, nor may a stuck writer hold the host forever).
	flushTimeout = 5 * time.Second
)

// ErrOutput wraps a write error of batched output that the program could no longer be told of
// (returned by Flush).
var ErrOutput = errors.New("wasi: output lost")

// outBatch is an instance's batch of stdout/stderr bytes, for one stream at a time.
type outBatch struct {
	mu     sync.Mutex
	s      *stream
	kind   fdKind // kindStdout or kindStderr
	buf    []byte
	failed [2]error // write errors not yet reported, by stream (stdout, stderr)
}

// readAhead is a buffered window of a regular file: buf holds the file's bytes from off.
type readAhead struct {
	gen uint64 // the instance's raGen when filled; a different value means stale
	off int64
	buf []byte
	mem []byte
}

// EnableBuffering turns on write batching and read-ahead (see the package doc). The engine
// must then call Flush when each call into the guest ends, however it ends.
func (in *Instance) EnableBuffering() {
	in.mu.Lock()
	in.buffered = true
	in.mu.Unlock()
}

// Flush writes out batched output and drops read-ahead buffers: call it when a call into the
// guest ends. It writes even when ctx has ended (bounded by flushTimeout). An error is a write
// error the program was not told of, wrapped in ErrOutput.
func (in *Instance) Flush(ctx context.Context) error {
	in.dropReadAheads()
	b := &in.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 && b.failed == [2]error{} {
		return nil // the common case: no timer to make
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	err := b.flushLocked(ctx)
	if errCtx(ctx, err) {
		b.buf = nil // the writer is stuck: give up on what it did not take
		return fmt.Errorf("%w: writing standard output: %w", ErrOutput, err)
	}
	var errs []error
	for i, e := range b.failed {
		if e != nil {
			errs = append(errs, fmt.Errorf("%w: writing %s: %w", ErrOutput, [2]string{"stdout", "stderr"}[i], e))
			b.failed[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Sync ends buffering's window as a non-neutral WASI function does: batched output is written
// (a write error is kept for the program's next write) and read-ahead buffers are dropped. The
// engine calls it before host functions of its own, which could write where the guest's
// output goes or change its files.
func (in *Instance) Sync(ctx context.Context) { in.sync(ctx) }

// sync ends buffering's window before a non-neutral function: the batch is written (its error
// kept for the program's next write) and read-ahead buffers are dropped.
func (in *Instance) sync(ctx context.Context) {
	if !in.isBuffered() {
		return
	}
	in.dropReadAheads()
	b := &in.batch
	b.mu.Lock()
	_ = b.flushLocked(ctx) // a context error leaves the bytes for Flush; others are kept in failed
	b.mu.Unlock()
}

func (in *Instance) isBuffered() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.buffered
}

func (in *Instance) dropReadAheads() {
	in.mu.Lock()
	in.raGen++
	in.dropGuestWindows()
	in.mu.Unlock()
}

// flushBeforeFileRead writes the batch if it goes to the very file the program is about to
// read or seek (fi, nil if unknown): the program would otherwise miss its own output.
func (in *Instance) flushBeforeFileRead(ctx context.Context, fi fs.FileInfo) {
	b := &in.batch
	b.mu.Lock()
	if len(b.buf) > 0 && b.s.regular && (fi == nil || b.s.fi == nil || os.SameFile(fi, b.s.fi)) {
		_ = b.flushLocked(ctx)
	}
	b.mu.Unlock()
}

// flushLocked writes the batch with b.mu held. On a write error the bytes are dropped and the
// error kept for the stream's next fd_write; when ctx ends first, what was not written stays.
func (b *outBatch) flushLocked(ctx context.Context) error {
	if len(b.buf) == 0 {
		return nil
	}
	data, s := b.buf, b.s
	b.buf = nil // data is handed to the stream, which may keep writing it after ctx ends
	if err := s.lock(ctx); err != nil {
		b.buf = data
		return err
	}
	n, err := s.write(ctx, data)
	inFlight := s.pending != nil
	s.unlock()
	switch {
	case err == nil:
	case errCtx(ctx, err):
		if !inFlight { // a deadline cut the write short: keep the rest
			b.buf = data[n:]
		}
	default:
		b.failed[b.kind-kindStdout] = err
	}
	return err
}

// batchWrite implements fd_write on stdout or stderr (kind k, stream s, non-nil) with
// buffering on.
func (in *Instance) batchWrite(ctx context.Context, m api.Memory, k fdKind, s *stream, iovsPtr, count, resultPtr uint32) (Errno, error) {
	if _, ok := m.ReadUint32Le(resultPtr); !ok {
		return ErrnoFault, nil
	}
	iovs, errno := readIovecs(m, iovsPtr, count)
	if errno != ErrnoSuccess {
		return errno, nil
	}
	b := &in.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	report := func() (Errno, bool) {
		if err := b.failed[k-kindStdout]; err != nil {
			b.failed[k-kindStdout] = nil
			return errnoOf(err), true
		}
		return ErrnoSuccess, false
	}
	if e, ok := report(); ok {
		return e, nil
	}
	total := 0
	for _, v := range iovs {
		total += int(v.len)
	}
	// The batch holds one stream's and one descriptor kind's bytes (a write error is reported
	// on the stream it happened on, even when stdout and stderr share a writer).
	if b.s != s || (len(b.buf) > 0 && b.kind != k) || len(b.buf)+total > batchCap || total > batchDirect {
		if err := b.flushLocked(ctx); errCtx(ctx, err) {
			return ErrnoIntr, err
		}
		if e, ok := report(); ok {
			return e, nil
		}
	}
	if total > batchDirect {
		return writeTo(ctx, m, iovsPtr, count, resultPtr, s, &streamWriter{ctx: ctx, s: s})
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, batchCap)
	}
	n := len(b.buf)
	for _, v := range iovs {
		data, ok := m.Read(v.buf, v.len)
		if !ok {
			b.buf = b.buf[:n] // nothing of this write is kept
			return ErrnoFault, nil
		}
		b.buf = append(b.buf, data...)
	}
	b.s, b.kind = s, k
	m.WriteUint32Le(resultPtr, uint32(total))
	return ErrnoSuccess, nil
}

// readAt reads len(b) bytes of e's file at off through its read-ahead buffer: exactly what
// ra.ReadAt(b, off) returns, with fewer host reads. With in.mu held.
func (in *Instance) readAt(e *fdEntry, ra io.ReaderAt, b []byte, off int64) (int, error) {
	if !in.buffered || len(b) > readAheadMax || !in.readAheadOK(e) {
		return ra.ReadAt(b, off)
	}
	w := e.ra
	if w.gen != in.raGen {
		w.buf = nil
	}
	n := 0
	for n < len(b) {
		if off >= w.off && off < w.off+int64(len(w.buf)) {
			c := copy(b[n:], w.buf[off-w.off:])
			n, off = n+c, off+int64(c)
			continue
		}
		got, err := ra.ReadAt(w.mem, off)
		w.gen, w.off, w.buf = in.raGen, off, w.mem[:got]
		if got == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return n, err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			c := copy(b[n:], w.buf) // what ReadAt would have returned with the error
			w.buf = nil
			return n + c, err
		}
	}
	return n, nil
}

// readAheadOK gives e a read-ahead buffer if it is a regular file and the instance has fewer
// than maxReadAheads.
func (in *Instance) readAheadOK(e *fdEntry) bool {
	if e.ra != nil {
		return true
	}
	if e.noReadAhead || in.readAheads >= maxReadAheads {
		return false
	}
	if fi, err := e.stat(); err != nil || !fi.Mode().IsRegular() {
		e.noReadAhead = true
		return false
	}
	in.readAheads++
	e.ra = &readAhead{mem: make([]byte, readAheadSize)}
	return true
}
