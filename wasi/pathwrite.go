package wasi

import (
	"context"

	"github.com/hlwasm/hlwasm/api"
)

// pathUnsupported implements path_filestat_set_times, path_link and path_symlink: EROFS on
// read-only preopens, ENOTSUP on writable ones. dirParam is the index of the directory fd.
func pathUnsupported(dirParam int) handler {
	return func(in *Instance, _ context.Context, _ api.Memory, p []uint64) Errno {
		dir, errno := in.dirEntry(uint32(p[dirParam]))
		if errno != ErrnoSuccess {
			return errno
		}
		if in.writableFS(dir.preopen) == nil {
			return in.readOnly(dir.preopen, "link or set times", dir.path)
		}
		return ErrnoNotsup
	}
}

// writablePath resolves the path parameters at p[i], p[i+1] under the directory fd p[fdParam]
// (without following a final symlink) for a change in a writable preopen.
func (in *Instance) writablePath(m api.Memory, p []uint64, fdParam, i int) (WritableFS, *fdEntry, string, Errno) {
	name, errno := readPath(m, uint32(p[i]), uint32(p[i+1]))
	if errno != ErrnoSuccess {
		if _, e := in.dirEntry(uint32(p[fdParam])); e != ErrnoSuccess {
			return nil, nil, "", e // a bad descriptor is reported first
		}
		return nil, nil, "", errno
	}
	return in.writableAt(uint32(p[fdParam]), name)
}

// writableAt resolves name under the directory fd (without following a final symlink) for a
// change in a writable preopen.
func (in *Instance) writableAt(fd uint32, name string) (WritableFS, *fdEntry, string, Errno) {
	dir, errno := in.dirEntry(fd)
	if errno != ErrnoSuccess {
		return nil, nil, "", errno
	}
	rp, errno := in.resolve(dir.preopen, dir.path, name, false)
	if errno != ErrnoSuccess {
		return nil, nil, "", errno
	}
	wfs := in.writableFS(dir.preopen)
	if wfs == nil {
		return nil, nil, "", in.readOnly(dir.preopen, "change", rp)
	}
	if rp == "." {
		return nil, nil, "", ErrnoBusy // the preopen itself cannot be replaced or removed
	}
	return wfs, dir, rp, ErrnoSuccess
}

// path_create_directory(fd, path, path_len).
func pathCreateDirectory(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	return in.createDirectoryAt(in.writablePath(m, p, 0, 1))
}

func (in *Instance) createDirectoryAt(wfs WritableFS, _ *fdEntry, rp string, errno Errno) Errno {
	if errno == ErrnoBusy {
		return ErrnoExist
	}
	if errno != ErrnoSuccess {
		return errno
	}
	return errnoOf(wfs.Mkdir(rp, 0o755))
}

// path_unlink_file(fd, path, path_len).
func pathUnlinkFile(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	return in.unlinkFileAt(in.writablePath(m, p, 0, 1))
}

func (in *Instance) unlinkFileAt(wfs WritableFS, dir *fdEntry, rp string, errno Errno) Errno {
	if errno == ErrnoBusy {
		return ErrnoIsdir
	}
	if errno != ErrnoSuccess {
		return errno
	}
	st, errno := in.statPath(dir.preopen, rp, false)
	switch {
	case errno != ErrnoSuccess:
		return errno
	case st.filetype == filetypeDirectory:
		return ErrnoIsdir
	}
	return errnoOf(wfs.Remove(rp))
}

// path_remove_directory(fd, path, path_len).
func pathRemoveDirectory(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	return in.removeDirectoryAt(in.writablePath(m, p, 0, 1))
}

func (in *Instance) removeDirectoryAt(wfs WritableFS, dir *fdEntry, rp string, errno Errno) Errno {
	if errno != ErrnoSuccess {
		return errno
	}
	st, errno := in.statPath(dir.preopen, rp, false)
	switch {
	case errno != ErrnoSuccess:
		return errno
	case st.filetype != filetypeDirectory:
		return ErrnoNotdir
	}
	return errnoOf(wfs.Remove(rp))
}

// path_rename(fd, old_path, old_path_len, new_fd, new_path, new_path_len).
func pathRename(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	wfs, from, oldp, errno := in.writablePath(m, p, 0, 1)
	if errno != ErrnoSuccess {
		return errno
	}
	_, to, newp, errno := in.writablePath(m, p, 3, 4)
	if errno != ErrnoSuccess {
		return errno
	}
	return renameAt(wfs, from, oldp, to, newp)
}

// renameAt renames between two resolved writable paths.
func renameAt(wfs WritableFS, from *fdEntry, oldp string, to *fdEntry, newp string) Errno {
	if from.preopen != to.preopen {
		return ErrnoXdev
	}
	return errnoOf(wfs.Rename(oldp, newp))
}
