package wasi

import (
	"context"
	"io"
	"math"

	"github.com/hlwasm/hlwasm/api"
)

func fdRead(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	return in.read(m, uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3]), -1)
}

func fdPread(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	if p[3] > math.MaxInt64 {
		return ErrnoInval
	}
	e := in.lookup(uint32(p[0]))
	if e != nil && e.kind != kindFile && e.kind != kindDir {
		return ErrnoSpipe
	}
	return in.read(m, uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[4]), int64(p[3]))
}

// read implements fd_read (at < 0) and fd_pread.
func (in *Instance) read(m api.Memory, fd, iovsPtr, count, resultPtr uint32, at int64) Errno {
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
	case kindStdin:
		if in.cfg.Stdin == nil {
			src = func([]byte) (int, error) { return 0, io.EOF }
		} else {
			src = in.cfg.Stdin.Read
		}
	case kindFile:
		if e.noRead {
			return ErrnoBadf
		}
		ra, isRA := e.file.(io.ReaderAt)
		switch {
		case isRA && at >= 0:
			src = func(b []byte) (int, error) { n, err := ra.ReadAt(b, at); at += int64(n); return n, err }
		case isRA:
			src = func(b []byte) (int, error) { n, err := ra.ReadAt(b, e.offset); e.offset += int64(n); return n, err }
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

func fdWrite(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil {
		return ErrnoBadf
	}
	var w io.Writer
	switch {
	case e.kind == kindStdout:
		w = in.cfg.Stdout
	case e.kind == kindStderr:
		w = in.cfg.Stderr
	case e.wfile != nil && e.append:
		w = appendWriter{e, in.maxFileSize(e.preopen)}
	case e.wfile != nil:
		w = offsetWriter{e, in.maxFileSize(e.preopen)}
	default:
		return ErrnoBadf // stdin, read-only files and directories
	}
	if _, ok := m.ReadUint32Le(uint32(p[3])); !ok {
		return ErrnoFault
	}
	iovs, errno := readIovecs(m, uint32(p[1]), uint32(p[2]))
	if errno != ErrnoSuccess {
		return errno
	}
	n, errno := writeFrom(m, iovs, w)
	if errno != ErrnoSuccess {
		return errno
	}
	m.WriteUint32Le(uint32(p[3]), n)
	return ErrnoSuccess
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
