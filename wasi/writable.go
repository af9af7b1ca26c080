package wasi

import (
	"io"
	"io/fs"
	"os"
)

// WritableFS is a preopened directory the guest may change (Preopen.Writable). Names are
// fs.ValidPath paths, already confined to the preopen by this package; the implementation must
// still refuse to follow symlinks out of itself, which RootFS guarantees.
type WritableFS interface {
	fs.FS
	// OpenFile opens name with os.OpenFile flags (os.O_RDONLY, os.O_WRONLY, os.O_RDWR,
	// os.O_CREATE, os.O_EXCL, os.O_TRUNC, os.O_APPEND).
	OpenFile(name string, flag int, perm fs.FileMode) (WritableFile, error)
	Mkdir(name string, perm fs.FileMode) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	Rename(oldname, newname string) error
}

// WritableFile is a file opened through WritableFS (*os.File is one).
type WritableFile interface {
	fs.File
	io.ReaderAt
	io.Writer
	io.WriterAt
	Truncate(size int64) error
	Sync() error
}

// RootFS makes a writable preopen of a host directory opened with os.OpenRoot: the kernel-backed
// os.Root keeps every access inside it, symlinks included.
func RootFS(r *os.Root) WritableFS { return rootFS{r: r, fs: r.FS()} }

type rootFS struct {
	r  *os.Root
	fs fs.FS
}

var (
	_ fs.ReadLinkFS = rootFS{}
	_ fs.StatFS     = rootFS{}
	_ fs.ReadDirFS  = rootFS{}
)

func (f rootFS) Open(name string) (fs.File, error)          { return f.fs.Open(name) }
func (f rootFS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.fs, name) }
func (f rootFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.fs, name) }
func (f rootFS) ReadLink(name string) (string, error)       { return fs.ReadLink(f.fs, name) }
func (f rootFS) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(f.fs, name) }
func (f rootFS) Mkdir(name string, perm fs.FileMode) error  { return f.r.Mkdir(name, perm) }
func (f rootFS) Remove(name string) error                   { return f.r.Remove(name) }
func (f rootFS) Rename(oldname, newname string) error       { return f.r.Rename(oldname, newname) }
func (f rootFS) OpenFile(name string, flag int, perm fs.FileMode) (WritableFile, error) {
	file, err := f.r.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// writableFS returns the WritableFS of preopen pre, or nil when it is read-only.
func (in *Instance) writableFS(pre int) WritableFS {
	p := in.cfg.Preopens[pre]
	if !p.Writable {
		return nil
	}
	w, _ := p.FS.(WritableFS)
	return w
}

// offsetWriter writes at the descriptor's offset and advances it.
type offsetWriter struct{ e *fdEntry }

func (w offsetWriter) Write(b []byte) (int, error) {
	n, err := w.e.wfile.WriteAt(b, w.e.offset)
	w.e.offset += int64(n)
	return n, err
}

// appendWriter writes at the end of the file and moves the offset there.
type appendWriter struct{ e *fdEntry }

func (w appendWriter) Write(b []byte) (int, error) {
	n, err := w.e.wfile.Write(b)
	if fi, serr := w.e.wfile.Stat(); serr == nil {
		w.e.offset = fi.Size()
	}
	return n, err
}

// atWriter writes at a fixed offset (fd_pwrite).
type atWriter struct {
	f  io.WriterAt
	at int64
}

func (w *atWriter) Write(b []byte) (int, error) {
	n, err := w.f.WriteAt(b, w.at)
	w.at += int64(n)
	return n, err
}
