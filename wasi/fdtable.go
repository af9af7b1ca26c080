package wasi

import (
	"io/fs"
)

// fdKind is what a descriptor refers to.
type fdKind uint8

const (
	kindStdin fdKind = iota
	kindStdout
	kindStderr
	kindDir
	kindFile
)

// maxOpenFiles caps the descriptors a guest may open beyond stdio and the preopens.
const maxOpenFiles = 1024

// fdEntry is one open descriptor.
type fdEntry struct {
	kind    fdKind
	fdflags uint16
	preopen int    // index into the preopens (kindDir, kindFile)
	guest   string // guest path of a preopen root ("" otherwise)
	path    string // path inside the preopen's FS ("." for its root)
	file    fs.File
	wfile   WritableFile // file opened for writing (nil when read-only)
	noRead  bool         // opened write-only
	append  bool         // writes go to the end
	offset  int64
	dirents []dirent // listing cached by fd_readdir (kindDir)
	// ra is the read-ahead buffer of a regular file (buffering.go); noReadAhead: not one.
	ra          *readAhead
	noReadAhead bool
	fi          fs.FileInfo // the file's Stat, taken once (buffering.go)
}

// stat returns the file's FileInfo, asking for it once per descriptor (a file's identity and
// kind do not change while it is open). With in.mu held.
func (e *fdEntry) stat() (fs.FileInfo, error) {
	if e.fi != nil {
		return e.fi, nil
	}
	fi, err := e.file.Stat()
	if err == nil {
		e.fi = fi
	}
	return fi, err
}

func (e *fdEntry) close() {
	if e.file != nil {
		_ = e.file.Close()
		e.file = nil
	}
}

// closeEntry closes e, a descriptor of the table, and releases its read-ahead buffer.
func (in *Instance) closeEntry(e *fdEntry) {
	in.dropGuestWindow(e)
	if e.ra != nil {
		e.ra = nil
		in.readAheads--
	}
	e.close()
}

// lookup returns the entry of fd, or nil.
func (in *Instance) lookup(fd uint32) *fdEntry {
	if uint64(fd) >= uint64(len(in.fds)) {
		return nil
	}
	return in.fds[fd]
}

// allocate stores e at the lowest free descriptor.
func (in *Instance) allocate(e *fdEntry) (uint32, Errno) {
	for i, f := range in.fds {
		if f == nil {
			in.fds[i] = e
			return uint32(i), ErrnoSuccess
		}
	}
	if len(in.fds) >= 3+len(in.cfg.Preopens)+maxOpenFiles {
		return 0, ErrnoMfile
	}
	in.fds = append(in.fds, e)
	return uint32(len(in.fds) - 1), ErrnoSuccess
}

// fsOf is the FS of a preopen index.
func (in *Instance) fsOf(e *fdEntry) fs.FS { return in.cfg.Preopens[e.preopen].FS }
