package wasi

import (
	"context"
	"errors"
	"io"
	"math"

	"github.com/hlwasm/hlwasm/api"
)

// fdRead serves stdin without holding the instance lock: a read that blocks on the host side
// must not block the instance's other functions (or its Reset), and ends with the call's ctx.
func fdRead(in *Instance, ctx context.Context, m api.Memory, stack []uint64) error {
	fd, iovs, count, resultPtr := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	in.mu.Lock()
	if e := in.lookup(fd); e != nil && e.kind == kindStdin {
		s := in.stdio(ctx, kindStdin)
		in.mu.Unlock()
		errno, err := readStream(ctx, m, s, iovs, count, resultPtr)
		stack[0] = uint64(errno)
		return err
	}
	errno := in.read(ctx, m, fd, iovs, count, resultPtr, -1)
	in.mu.Unlock()
	stack[0] = uint64(errno)
	return nil
}

// readStream implements fd_read on a stream: one host read (it may block; a short read is
// fine) of up to 64 KiB, scattered over the iovecs.
func readStream(ctx context.Context, m api.Memory, s *stream, iovsPtr, count, resultPtr uint32) (Errno, error) {
	if _, ok := m.ReadUint32Le(resultPtr); !ok {
		return ErrnoFault, nil
	}
	iovs, errno := readIovecs(m, iovsPtr, count)
	if errno != ErrnoSuccess {
		return errno, nil
	}
	want := uint32(0)
	for _, v := range iovs {
		want += min(v.len, chunkSize-want)
	}
	n := 0
	if want > 0 && s != nil {
		if err := s.lock(ctx); err != nil {
			return ErrnoIntr, err
		}
		buf := make([]byte, want)
		var err error
		n, err = s.read(ctx, buf)
		s.unlock()
		switch {
		case errCtx(ctx, err):
			return ErrnoIntr, err
		case n == 0 && err != nil && !errors.Is(err, io.EOF):
			return ErrnoIo, nil
		}
		rest := buf[:n]
		for _, v := range iovs {
			c := rest[:min(uint32(len(rest)), v.len)]
			if len(c) > 0 && !m.Write(v.buf, c) {
				return ErrnoFault, nil
			}
			rest = rest[len(c):]
		}
	}
	m.WriteUint32Le(resultPtr, uint32(n))
	return ErrnoSuccess, nil
}

func fdPread(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno {
	if p[3] > math.MaxInt64 {
		return ErrnoInval
	}
	e := in.lookup(uint32(p[0]))
	if e != nil && e.kind != kindFile && e.kind != kindDir {
		return ErrnoSpipe
	}
	return in.read(ctx, m, uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[4]), int64(p[3]))
}

// read implements fd_read (at < 0) and fd_pread.
func (in *Instance) read(ctx context.Context, m api.Memory, fd, iovsPtr, count, resultPtr uint32, at int64) Errno {
	e := in.lookup(fd)
	if e == nil {
		return ErrnoBadf
	}
	if _, ok := m.ReadUint32Le(resultPtr); !ok {
		return ErrnoFault
	}
	iovs, errno := readIovecs(m, iovsPtr, count)
	if errno != ErrnoSuccess {
		return errno
	}
	var src func([]byte) (int, error)
	switch e.kind {
	case kindFile:
		if e.noRead {
			return ErrnoBadf
		}
		ra, isRA := e.file.(io.ReaderAt)
		switch {
		case isRA && at >= 0:
			src = func(b []byte) (int, error) { n, err := in.readAt(e, ra, b, at); at += int64(n); return n, err }
		case isRA:
			if n, errno, ok := in.guestRead(ctx, m, e, fd, ra, iovs); ok {
				if errno != ErrnoSuccess {
					return errno
				}
				m.WriteUint32Le(resultPtr, n)
				return ErrnoSuccess
			}
			in.dropGuestWindow(e) // this read moves the offset past what the window knows
			src = func(b []byte) (int, error) {
				n, err := in.readAt(e, ra, b, e.offset)
				e.offset += int64(n)
				return n, err
			}
		case at >= 0:
			return ErrnoSpipe
		default:
			src = func(b []byte) (int, error) { n, err := e.file.Read(b); e.offset += int64(n); return n, err }
		}
	case kindDir:
		return ErrnoIsdir
	default:
		return ErrnoBadf
	}
	n, errno := readInto(m, iovs, src)
	if errno != ErrnoSuccess {
		return errno
	}
	m.WriteUint32Le(resultPtr, n)
	return ErrnoSuccess
}

// fdWrite serves stdout and stderr without holding the instance lock (see fdRead); one
// fd_write is one turn on the stream, so concurrent guests' writes do not interleave.
func fdWrite(in *Instance, ctx context.Context, m api.Memory, stack []uint64) error {
	fd, iovsPtr, count, resultPtr := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	in.mu.Lock()
	e := in.lookup(fd)
	var w io.Writer
	var s *stream
	switch {
	case e == nil:
		in.mu.Unlock()
		stack[0] = uint64(ErrnoBadf)
		return nil
	case e.kind == kindStdout || e.kind == kindStderr:
		s = in.stdio(ctx, e.kind)
		buffered, kind := in.buffered, e.kind
		in.mu.Unlock() // the stream serializes itself
		if s != nil && buffered {
			errno, err := in.batchWrite(ctx, m, kind, s, iovsPtr, count, resultPtr)
			stack[0] = uint64(errno)
			return err
		}
		if s != nil {
			w = &streamWriter{ctx: ctx, s: s}
		}
	case e.wfile != nil && e.append:
		defer in.mu.Unlock()
		w = appendWriter{e, in.maxFileSize(e.preopen)}
	case e.wfile != nil:
		defer in.mu.Unlock()
		w = offsetWriter{e, in.maxFileSize(e.preopen)}
	default:
		in.mu.Unlock()
		stack[0] = uint64(ErrnoBadf) // stdin, read-only files and directories
		return nil
	}
	errno, err := writeTo(ctx, m, iovsPtr, count, resultPtr, s, w)
	stack[0] = uint64(errno)
	return err
}

// writeTo copies the iovecs to w, within one turn on s if w writes to a stream.
func writeTo(ctx context.Context, m api.Memory, iovsPtr, count, resultPtr uint32, s *stream, w io.Writer) (Errno, error) {
	if _, ok := m.ReadUint32Le(resultPtr); !ok {
		return ErrnoFault, nil
	}
	iovs, errno := readIovecs(m, iovsPtr, count)
	if errno != ErrnoSuccess {
		return errno, nil
	}
	if s != nil {
		if err := s.lock(ctx); err != nil {
			return ErrnoIntr, err
		}
		defer s.unlock()
	}
	n, errno := writeFrom(m, iovs, w)
	if sw, ok := w.(*streamWriter); ok && sw.err != nil {
		return ErrnoIntr, sw.err
	}
	if errno != ErrnoSuccess {
		return errno, nil
	}
	m.WriteUint32Le(resultPtr, n)
	return ErrnoSuccess, nil
}

// streamWriter writes to a locked stream, remembering that the call's context ended.
type streamWriter struct {
	ctx context.Context
	s   *stream
	err error
}

func (w *streamWriter) Write(b []byte) (int, error) {
	n, err := w.s.write(w.ctx, b)
	if errCtx(w.ctx, err) {
		w.err = err
	}
	return n, err
}

func fdPwrite(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	switch {
	case e == nil:
		return ErrnoBadf
	case e.kind == kindStdout || e.kind == kindStderr:
		return ErrnoSpipe
	case e.wfile == nil:
		return ErrnoBadf
	case p[3] > math.MaxInt64:
		return ErrnoInval
	}
	if _, ok := m.ReadUint32Le(uint32(p[4])); !ok {
		return ErrnoFault
	}
	iovs, errno := readIovecs(m, uint32(p[1]), uint32(p[2]))
	if errno != ErrnoSuccess {
		return errno
	}
	n, errno := writeFrom(m, iovs, &atWriter{f: e.wfile, at: int64(p[3]), limit: in.maxFileSize(e.preopen)})
	if errno != ErrnoSuccess {
		return errno
	}
	m.WriteUint32Le(uint32(p[4]), n)
	return ErrnoSuccess
}
