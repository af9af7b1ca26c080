package wasi

import (
	"cmp"
	"io"
	"io/fs"
	"math"
	"os"
	"syscall"
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

// readOnly answers EROFS for a change (op) of path in read-only preopen pre, telling
// Config.RefusedWrite.
func (in *Instance) readOnly(pre int, op, path string) Errno {
	if f := in.cfg.RefusedWrite; f != nil {
		f(in.cfg.Preopens[pre].GuestPath, op, path)
	}
	return ErrnoRofs
}

// maxFileSize is the size bound of files of preopen pre.
func (in *Instance) maxFileSize(pre int) int64 {
	switch n := in.cfg.Preopens[pre].MaxFileSize; {
	case n == 0:
		return DefaultMaxFileSize
	case n < 0:
		return math.MaxInt64
	default:
		return n
	}
}

// errFileTooBig is a write at or beyond the preopen's MaxFileSize (errnoOf: EFBIG).
var errFileTooBig error = syscall.EFBIG

// clip shortens a write of b at offset at to what fits below limit; errFileTooBig when the write
// had to be shortened (a short write: the caller reports what was written, or EFBIG if nothing).
func clip(b []byte, at, limit int64) ([]byte, error) {
	if at >= limit {
		return nil, errFileTooBig
	}
	if int64(len(b)) > limit-at {
		return b[:limit-at], errFileTooBig
	}
	return b, nil
}

// offsetWriter writes at the descriptor's offset and advances it.
type offsetWriter struct {
	e     *fdEntry
	limit int64
}

func (w offsetWriter) Write(b []byte) (int, error) {
	b, cerr := clip(b, w.e.offset, w.limit)
	if len(b) == 0 {
		return 0, cerr
	}
	n, err := w.e.wfile.WriteAt(b, w.e.offset)
	w.e.offset += int64(n)
	return n, cmp.Or(err, cerr)
}

// appendWriter writes at the end of the file and moves the offset there.
type appendWriter struct {
	e     *fdEntry
	limit int64
}

func (w appendWriter) Write(b []byte) (int, error) {
	var cerr error
	if w.limit < math.MaxInt64 {
		fi, err := w.e.wfile.Stat()
		if err != nil {
			return 0, err
		}
		if b, cerr = clip(b, fi.Size(), w.limit); len(b) == 0 {
			return 0, cerr
		}
	}
	n, err := w.e.wfile.Write(b)
	if fi, serr := w.e.wfile.Stat(); serr == nil {
		w.e.offset = fi.Size()
	}
	return n, cmp.Or(err, cerr)
}

// atWriter writes at a fixed offset (fd_pwrite).
type atWriter struct {
	f     io.WriterAt
	at    int64
	limit int64
}

func (w *atWriter) Write(b []byte) (int, error) {
	b, cerr := clip(b, w.at, w.limit)
	if len(b) == 0 {
		return 0, cerr
	}
	n, err := w.f.WriteAt(b, w.at)
	w.at += int64(n)
	return n, cmp.Or(err, cerr)
}
