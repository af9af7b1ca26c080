package wasi

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/hlwasm/hlwasm/api"
)

// pathOpen(fd, dirflags, path, path_len, oflags, fs_rights_base, fs_rights_inheriting, fdflags,
// fd_ptr) opens a file or directory under a directory descriptor. The access mode comes from
// FD_WRITE and FD_READ in fs_rights_base; inheriting rights are ignored.
func pathOpen(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	dir, errno := in.dirEntry(uint32(p[0]))
	if errno != ErrnoSuccess {
		return errno
	}
	follow := uint32(p[1])&lookupSymlinkFollow != 0
	oflags, rights, fdflags, resultPtr := uint16(p[4]), p[5], uint16(p[7]), uint32(p[8])
	if _, ok := m.ReadUint32Le(resultPtr); !ok {
		return ErrnoFault
	}
	name, errno := readPath(m, uint32(p[2]), uint32(p[3]))
	if errno != ErrnoSuccess {
		return errno
	}
	fd, errno := in.openAt(dir, name, follow, oflags, rights, fdflags)
	if errno != ErrnoSuccess {
		return errno
	}
	m.WriteUint32Le(resultPtr, fd)
	return ErrnoSuccess
}

// openAt opens name under the directory dir (path_open's semantics) and returns its fd.
func (in *Instance) openAt(dir *fdEntry, name string, follow bool, oflags uint16, rights uint64, fdflags uint16) (uint32, Errno) {
	rp, errno := in.resolve(dir.preopen, dir.path, name, follow)
	if errno != ErrnoSuccess {
		return 0, errno
	}
	wfs := in.writableFS(dir.preopen)
	write := rights&writeRights != 0 // the access mode; O_TRUNC and append only need a writable FS
	if (write || oflags&oflagTrunc != 0 || fdflags&fdflagAppend != 0) && wfs == nil {
		return 0, in.readOnly(dir.preopen, "open for writing", rp)
	}
	if !follow {
		if st, errno := in.statPath(dir.preopen, rp, false); errno == ErrnoSuccess && st.filetype == filetypeSymlink {
			return 0, ErrnoLoop
		}
	}
	fsys := in.cfg.Preopens[dir.preopen].FS
	fi, err := fs.Stat(fsys, rp)
	switch {
	case err != nil && oflags&oflagCreat != 0 && errors.Is(err, fs.ErrNotExist):
		if wfs == nil {
			return 0, in.readOnly(dir.preopen, "create", rp)
		}
		if oflags&oflagDirectory != 0 {
			return 0, ErrnoInval
		}
	case err != nil:
		return 0, errnoOf(err)
	case oflags&(oflagCreat|oflagExcl) == oflagCreat|oflagExcl:
		return 0, ErrnoExist
	case oflags&oflagDirectory != 0 && !fi.IsDir():
		return 0, ErrnoNotdir
	case fi.IsDir() && write:
		return 0, ErrnoIsdir
	case !fi.IsDir() && !fi.Mode().IsRegular():
		return 0, ErrnoAcces // devices, FIFOs and sockets are not served
	}
	e := &fdEntry{kind: kindDir, preopen: dir.preopen, path: rp, fdflags: fdflags}
	if fi == nil || !fi.IsDir() {
		if errno := in.openFile(e, fsys, wfs, oflags, rights, write); errno != ErrnoSuccess {
			return 0, errno
		}
	}
	fd, errno := in.allocate(e)
	if errno != ErrnoSuccess {
		e.close()
		return 0, errno
	}
	return fd, ErrnoSuccess
}

// openFile opens the regular file e.path, through wfs when it is writable.
func (in *Instance) openFile(e *fdEntry, fsys fs.FS, wfs WritableFS, oflags uint16, rights uint64, write bool) Errno {
	var f fs.File
	var err error
	if wfs == nil || !write && oflags&(oflagCreat|oflagTrunc) == 0 {
		f, err = fsys.Open(e.path)
	} else {
		flag := os.O_RDONLY
		switch {
		case write && rights&rightFdRead == 0:
			flag, e.noRead = os.O_WRONLY, true
		case write:
			flag = os.O_RDWR
		}
		if oflags&oflagCreat != 0 {
			flag |= os.O_CREATE
		}
		if oflags&oflagExcl != 0 {
			flag |= os.O_EXCL
		}
		if oflags&oflagTrunc != 0 {
			flag |= os.O_TRUNC
		}
		if e.fdflags&fdflagAppend != 0 {
			flag |= os.O_APPEND
			e.append = true
		}
		var wf WritableFile
		wf, err = wfs.OpenFile(e.path, flag, 0o644)
		if err == nil {
			f = wf
			if write {
				e.wfile = wf
			}
		}
	}
	if err != nil {
		return errnoOf(err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		return ErrnoAcces
	}
	e.kind, e.file = kindFile, f
	return ErrnoSuccess
}
