package wasi

import (
	"context"
	"io"
	"math"

	"github.com/hlwasm/hlwasm/api"
)

// Seek whences.
const (
	whenceSet = 0
	whenceCur = 1
	whenceEnd = 2
)

func fdSeek(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	off, errno := in.seek(uint32(p[0]), int64(p[1]), uint32(p[2]))
	if errno != ErrnoSuccess {
		return errno
	}
	if !m.WriteUint64Le(uint32(p[3]), uint64(off)) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func fdTell(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	off, errno := in.seek(uint32(p[0]), 0, whenceCur)
	if errno != ErrnoSuccess {
		return errno
	}
	if !m.WriteUint64Le(uint32(p[1]), uint64(off)) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func (in *Instance) seek(fd uint32, offset int64, whence uint32) (int64, Errno) {
	e := in.lookup(fd)
	switch {
	case e == nil:
		return 0, ErrnoBadf
	case e.kind == kindDir:
		return 0, ErrnoIsdir // as wazero (wasi-testsuite forbids seeking directories)
	case e.kind != kindFile:
		return 0, ErrnoSpipe
	case whence > whenceEnd:
		return 0, ErrnoInval
	}
	if e.ra != nil {
		e.ra.buf = nil
	}
	if whence != whenceCur || offset != 0 { // a tell keeps the guest's window: the offset stays
		in.dropGuestWindow(e)
	}
	if _, ok := e.file.(io.ReaderAt); !ok {
		s, ok := e.file.(io.Seeker)
		if !ok {
			if whence == whenceCur && offset == 0 {
				return e.offset, ErrnoSuccess
			}
			return 0, ErrnoSpipe
		}
		n, err := s.Seek(offset, int(whence))
		if err != nil {
			return 0, errnoOf(err)
		}
		e.offset = n
		return n, ErrnoSuccess
	}
	base := int64(0)
	switch whence {
	case whenceCur:
		base = e.offset
	case whenceEnd:
		fi, err := e.file.Stat()
		if err != nil {
			return 0, errnoOf(err)
		}
		base = fi.Size()
	}
	if (offset > 0 && base > math.MaxInt64-offset) || base+offset < 0 {
		return 0, ErrnoInval
	}
	e.offset = base + offset
	return e.offset, ErrnoSuccess
}
