package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"
)

// Stdio is a set of standard streams for the calls made with a context (WithStdio). As in
// Config, a nil Stdin is an empty stream and a nil Stdout or Stderr discards.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

type stdioKey struct{}

// callStdio is the streams of a WithStdio context, looked up once.
type callStdio struct{ in, out, err *stream }

// WithStdio returns a context whose WASI calls use s instead of the Config's streams (all three
// are replaced): what a service needs to give each request its own input and output while its
// sandboxes share one Config.
func WithStdio(ctx context.Context, s Stdio) context.Context {
	return context.WithValue(ctx, stdioKey{}, &callStdio{
		in: streamOf(s.Stdin, false), out: streamOf(s.Stdout, true), err: streamOf(s.Stderr, true)})
}

// stdio returns the streams of fd kind k (stdin, stdout or stderr) for a call with ctx.
func (in *Instance) stdio(ctx context.Context, k fdKind) *stream {
	st := in.streams
	if c, ok := ctx.Value(stdioKey{}).(*callStdio); ok {
		st = *c
	}
	switch k {
	case kindStdin:
		return st.in
	case kindStdout:
		return st.out
	}
	return st.err
}

// stream is one host reader or writer as every Instance sees it: the registry below hands the
// same stream to every Instance (and WithStdio context) using that reader or writer, so their
// calls take turns on it instead of racing. A call blocked on the host side ends when its
// context does; what it left running is kept in pending for the next call, so that no data is
// lost or reordered.
type stream struct {
	sem      chan struct{} // held for one operation; a channel so that waiting respects ctx
	r        io.Reader
	w        io.Writer
	deadline bool        // r or w is an *os.File whose deadlines work (a pollable descriptor)
	regular  bool        // w is an *os.File of a regular file (a guest could read what it wrote)
	fi       fs.FileInfo // that file's identity (nil: unknown)
	pending  *pending    // an operation a cancelled call abandoned (held by the registry meanwhile)
}

// pending is a Read or Write left running by a call whose context ended.
type pending struct {
	done chan struct{}
	buf  []byte // a read's data: buf[off:n] is still to be delivered
	off  int
	n    int
	err  error
}

// streamKey identifies a host reader or writer; the direction keeps a terminal's reads and
// writes (one *os.File) independent.
type streamKey struct {
	v     any
	write bool
}

// streams is the registry of live streams. Entries are weak: a stream lives as long as an
// Instance, a WithStdio context or an abandoned operation refers to it.
var streams struct {
	mu   sync.Mutex
	m    map[streamKey]weak.Pointer[stream]
	held map[*stream]struct{} // streams with pending operations
}

// streamOf returns the shared stream of v (nil for no stream: empty input, discarded output).
// A value whose type cannot be compared (a map or func type, say) cannot be looked up; it gets
// a stream of its own, so it is not serialized: wrap it in a pointer.
func streamOf(v any, write bool) *stream {
	if v == nil || v == io.Discard {
		return nil
	}
	k, ok := comparableKey(v, write)
	if !ok {
		return newStream(v, write)
	}
	streams.mu.Lock()
	defer streams.mu.Unlock()
	if old := streams.m[k].Value(); old != nil {
		return old // newStream would clear the deadline of an operation in progress
	}
	s := newStream(v, write)
	if streams.m == nil {
		streams.m, streams.held = map[streamKey]weak.Pointer[stream]{}, map[*stream]struct{}{}
	}
	wp := weak.Make(s)
	streams.m[k] = wp
	runtime.AddCleanup(s, func(k streamKey) {
		streams.mu.Lock()
		if streams.m[k] == wp {
			delete(streams.m, k)
		}
		streams.mu.Unlock()
	}, k)
	return s
}

// comparableKey returns v's registry key, or false when comparing v would panic.
func comparableKey(v any, write bool) (k streamKey, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	k = streamKey{v, write}
	return k, k == k
}

func newStream(v any, write bool) *stream {
	s := &stream{sem: make(chan struct{}, 1)}
	if write {
		s.w = v.(io.Writer)
	} else {
		s.r = v.(io.Reader)
	}
	if f, ok := v.(*os.File); ok {
		// Deadlines work on pollable descriptors (pipes, sockets, ttys opened non-blocking)
		// only; elsewhere a blocking operation runs in a goroutine the call can leave.
		if write {
			s.deadline = f.SetWriteDeadline(time.Time{}) == nil
			fi, err := f.Stat()
			s.regular = err != nil || fi.Mode().IsRegular() // unknown counts as regular: flush
			if err == nil {
				s.fi = fi
			}
		} else {
			s.deadline = f.SetReadDeadline(time.Time{}) == nil
		}
	}
	return s
}

// instant reports whether v never blocks, so it is used directly, without a goroutine.
func instant(v any) bool {
	switch v.(type) {
	case *bytes.Buffer, *bytes.Reader, *strings.Reader, *strings.Builder:
		return true
	}
	return false
}

// lock takes the stream for one WASI call, waiting at most as long as ctx allows.
func (s *stream) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stream) unlock() { <-s.sem }

// abandon records p, still running, for the next operation and keeps s alive until then.
func (s *stream) abandon(p *pending) {
	s.pending = p
	streams.mu.Lock()
	streams.held[s] = struct{}{}
	streams.mu.Unlock()
}

func (s *stream) settle() {
	s.pending = nil
	streams.mu.Lock()
	delete(streams.held, s)
	streams.mu.Unlock()
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked Read or Write at once.
var aLongTimeAgo = time.Unix(1, 0)

// errCtx reports whether err is ctx's own error (the call must end with it).
func errCtx(ctx context.Context, err error) bool { return err != nil && err == ctx.Err() }

// read reads into b once (a short read is fine), with s locked. It returns ctx.Err() when ctx
// ends first; a read left running then delivers its data to the next read.
func (s *stream) read(ctx context.Context, b []byte) (int, error) {
	if p := s.pending; p != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		n := copy(b, p.buf[p.off:p.n])
		if p.off += n; p.off < p.n {
			return n, nil
		}
		s.settle()
		if n == 0 || p.err != io.EOF {
			return n, p.err
		}
		return n, nil // the next read sees EOF again
	}
	switch {
	case instant(s.r):
		return s.r.Read(b)
	case s.deadline:
		f := s.r.(*os.File)
		n, err := withDeadline(ctx, f.SetReadDeadline, func() (int, error) { return f.Read(b) })
		return n, err
	}
	p := &pending{done: make(chan struct{}), buf: make([]byte, len(b))}
	go func() {
		p.n, p.err = s.r.Read(p.buf)
		close(p.done)
	}()
	select {
	case <-p.done:
		return copy(b, p.buf[:p.n]), p.err
	case <-ctx.Done():
		s.abandon(p)
		return 0, ctx.Err()
	}
}

// write writes all of b, with s locked. It returns ctx.Err() when ctx ends first; a write left
// running then completes before the next one starts.
func (s *stream) write(ctx context.Context, b []byte) (int, error) {
	if p := s.pending; p != nil {
		select {
		case <-p.done:
			s.settle()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	switch {
	case instant(s.w):
		return s.w.Write(b)
	case s.deadline:
		f := s.w.(*os.File)
		return withDeadline(ctx, f.SetWriteDeadline, func() (int, error) { return f.Write(b) })
	}
	p := &pending{done: make(chan struct{})}
	go func() {
		p.n, p.err = s.w.Write(b) // b is the caller's copy of guest memory, never reused
		close(p.done)
	}()
	select {
	case <-p.done:
		return p.n, p.err
	case <-ctx.Done():
		s.abandon(p)
		return 0, ctx.Err()
	}
}

// withDeadline runs op on a pollable file, moving its deadline to the past when ctx ends so
// that op returns (having transferred nothing more); the error is then ctx.Err().
func withDeadline(ctx context.Context, set func(time.Time) error, op func() (int, error)) (int, error) {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = set(aLongTimeAgo)
		close(fired)
	})
	n, err := op()
	if !stop() {
		<-fired
		_ = set(time.Time{}) // the next call starts without a deadline
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		err = ctx.Err()
	}
	return n, err
}
