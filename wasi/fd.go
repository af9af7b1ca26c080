package wasi

import (
	"context"

	"github.com/hlwasm/hlwasm/api"
)

func fdClose(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	fd := uint32(p[0])
	e := in.lookup(fd)
	if e == nil {
		return ErrnoBadf
	}
	in.closeEntry(e)
	in.fds[fd] = nil
	for len(in.fds) > 0 && in.fds[len(in.fds)-1] == nil {
		in.fds = in.fds[:len(in.fds)-1]
	}
	return ErrnoSuccess
}

func fdRenumber(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	from, to := uint32(p[0]), uint32(p[1])
	ef := in.lookup(from)
	if ef == nil || uint64(to) >= uint64(len(in.fds)) {
		return ErrnoBadf
	}
	// to may be a free descriptor of the table (dup2's semantics, as wazero): programs save
	// stdout by renumbering it away, then renumber a file onto 1. Beyond the table: EBADF.
	if from != to {
		if et := in.fds[to]; et != nil {
			in.closeEntry(et)
		}
		in.fds[to], in.fds[from] = ef, nil
	}
	return ErrnoSuccess
}

func fdFdstatGet(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil {
		return ErrnoBadf
	}
	var b []byte
	switch e.kind {
	case kindDir:
		b = fdstatBytes(filetypeDirectory, e.fdflags, dirRights, fileRights|dirRights)
	case kindFile:
		b = fdstatBytes(filetypeRegular, e.fdflags, fileRights, 0)
	default:
		// Stdio is reported as wazero does for non-terminal streams: a block device.
		b = fdstatBytes(filetypeBlockDevice, e.fdflags, fileRights, 0)
	}
	if !m.Write(uint32(p[1]), b) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func fdFdstatSetFlags(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil {
		return ErrnoBadf
	}
	flags := uint16(p[1])
	allowed := uint16(fdflagNonblock)
	if e.kind == kindStdout || e.kind == kindStderr {
		allowed |= fdflagAppend
	}
	if flags&^allowed != 0 {
		if e.kind == kindFile || e.kind == kindDir {
			return in.readOnly(e.preopen, "fd_fdstat_set_flags", e.path)
		}
		return ErrnoNotsup
	}
	e.fdflags = flags
	return ErrnoSuccess
}

func fdFdstatSetRights(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	if in.lookup(uint32(p[0])) == nil {
		return ErrnoBadf
	}
	return ErrnoNotsup
}

func fdFilestatGet(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil {
		return ErrnoBadf
	}
	st, errno := in.statEntry(e)
	if errno != ErrnoSuccess {
		return errno
	}
	if !m.Write(uint32(p[1]), st.bytes()) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func (in *Instance) statEntry(e *fdEntry) (stat, Errno) {
	switch e.kind {
	case kindFile:
		fi, err := e.file.Stat()
		if err != nil {
			return stat{}, errnoOf(err)
		}
		return statOf(fi), ErrnoSuccess
	case kindDir:
		return in.statPath(e.preopen, e.path, true)
	}
	return stat{filetype: filetypeBlockDevice, nlink: 1}, ErrnoSuccess
}

func fdPrestatGet(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil || e.guest == "" {
		return ErrnoBadf
	}
	b := make([]byte, prestatSize) // tag 0: directory
	le.PutUint32(b[4:], uint32(len(e.guest)))
	if !m.Write(uint32(p[1]), b) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func fdPrestatDirName(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil || e.guest == "" {
		return ErrnoBadf
	}
	if uint32(p[2]) < uint32(len(e.guest)) {
		return ErrnoNametoolong
	}
	if !m.Write(uint32(p[1]), []byte(e.guest)) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func fdSync(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	switch {
	case e == nil:
		return ErrnoBadf
	case e.wfile != nil:
		return errnoOf(e.wfile.Sync())
	}
	return ErrnoSuccess
}

func fdAdvise(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	switch {
	case e == nil:
		return ErrnoBadf
	case uint32(p[3]) > 5:
		return ErrnoInval
	case e.kind == kindDir:
		return ErrnoBadf
	}
	return ErrnoSuccess
}
