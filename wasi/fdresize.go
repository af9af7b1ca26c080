package wasi

import (
	"context"
	"math"

	"github.com/hlwasm/hlwasm/api"
)

// fdFilestatSetTimes is not supported (EROFS on read-only preopens).
func fdFilestatSetTimes(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	switch {
	case e == nil:
		return ErrnoBadf
	case e.kind != kindFile && e.kind != kindDir:
		return ErrnoInval
	case in.writableFS(e.preopen) == nil:
		return in.readOnly(e.preopen, "fd_filestat_set_times", e.path)
	}
	return ErrnoNotsup
}

// fdFilestatSetSize truncates or extends a file opened for writing.
func fdFilestatSetSize(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	return in.resize(uint32(p[0]), p[1], false)
}

// fdAllocate extends a file opened for writing to offset+len if it is shorter.
func fdAllocate(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	if p[1] > math.MaxInt64 || p[2] > math.MaxInt64-p[1] {
		return ErrnoFbig
	}
	if p[2] == 0 {
		return ErrnoInval
	}
	return in.resize(uint32(p[0]), p[1]+p[2], true)
}

func (in *Instance) resize(fd uint32, size uint64, growOnly bool) Errno {
	e := in.lookup(fd)
	switch {
	case e == nil:
		return ErrnoBadf
	case e.kind == kindDir:
		if in.writableFS(e.preopen) == nil {
			return in.readOnly(e.preopen, "resize", e.path)
		}
		return ErrnoIsdir
	case e.kind != kindFile:
		return ErrnoInval
	case e.wfile == nil && in.writableFS(e.preopen) == nil:
		return in.readOnly(e.preopen, "resize", e.path)
	case e.wfile == nil:
		return ErrnoBadf // opened read-only
	case size > uint64(in.maxFileSize(e.preopen)):
		return ErrnoFbig
	}
	if growOnly {
		fi, err := e.wfile.Stat()
		if err != nil {
			return errnoOf(err)
		}
		if fi.Size() >= int64(size) {
			return ErrnoSuccess
		}
	}
	return errnoOf(e.wfile.Truncate(int64(size)))
}
