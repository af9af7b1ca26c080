package wasi

import (
	"context"
	"io/fs"

	"github.com/hlwasm/hlwasm/api"
)

type dirent struct {
	name     string
	ino      uint64
	filetype uint8
}

// listDir reads the directory of e: ".", ".." and the entries in the FS's own order (directory
// order for host directories, as wazero reports them; sorted for FSes without fs.ReadDirFile).
func (in *Instance) listDir(e *fdEntry) ([]dirent, Errno) {
	entries, err := readDir(in.fsOf(e), e.path)
	if err != nil {
		return nil, errnoOf(err)
	}
	out := make([]dirent, 0, len(entries)+2)
	out = append(out, dirent{name: ".", filetype: filetypeDirectory}, dirent{name: "..", filetype: filetypeDirectory})
	for _, de := range entries {
		d := dirent{name: de.Name(), filetype: filetypeOf(de.Type())}
		if fi, err := de.Info(); err == nil {
			var st stat
			sysStat(fi, &st)
			d.ino = st.ino
		}
		out = append(out, d)
	}
	return out, ErrnoSuccess
}

// fdReaddir(fd, buf, buf_len, cookie, bufused): the cookie is the index of the next entry; a
// final entry that does not fit is truncated and bufused == buf_len tells the guest to retry.
func fdReaddir(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	e := in.lookup(uint32(p[0]))
	if e == nil || e.kind != kindDir {
		return ErrnoBadf // as wazero: Go relies on EBADF for a file opened without O_DIRECTORY
	}
	buf, bufLen, cookie, usedPtr := uint32(p[1]), uint32(p[2]), p[3], uint32(p[4])
	if uint64(buf)+uint64(bufLen) > m.Size() {
		return ErrnoFault
	}
	if _, ok := m.ReadUint32Le(usedPtr); !ok {
		return ErrnoFault
	}
	if bufLen < direntSize {
		return ErrnoInval
	}
	if e.dirents == nil || cookie == 0 {
		ds, errno := in.listDir(e)
		if errno != ErrnoSuccess {
			return errno
		}
		e.dirents = ds
	}
	var out []byte
	for i := cookie; i < uint64(len(e.dirents)) && uint32(len(out)) < bufLen; i++ {
		d := e.dirents[i]
		rec := make([]byte, direntSize, direntSize+len(d.name))
		le.PutUint64(rec[0:], i+1)
		le.PutUint64(rec[8:], d.ino)
		le.PutUint32(rec[16:], uint32(len(d.name)))
		rec[20] = d.filetype
		rec = append(rec, d.name...)
		out = append(out, rec[:min(uint32(len(rec)), bufLen-uint32(len(out)))]...)
	}
	if !m.Write(buf, out) || !m.WriteUint32Le(usedPtr, uint32(len(out))) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func readDir(fsys fs.FS, name string) ([]fs.DirEntry, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if d, ok := f.(fs.ReadDirFile); ok {
		return d.ReadDir(-1)
	}
	return fs.ReadDir(fsys, name)
}
