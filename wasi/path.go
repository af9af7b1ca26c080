package wasi

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

// Limits on path lookups.
const (
	maxPathLen  = 4096
	maxSymlinks = 32
)

// readPath copies a guest path, refusing huge, empty and NUL-containing ones.
func readPath(m api.Memory, ptr, n uint32) (string, Errno) {
	if n > maxPathLen {
		return "", ErrnoNametoolong
	}
	s, ok := m.ReadString(ptr, n)
	if !ok {
		return "", ErrnoFault
	}
	return s, checkPath(s)
}

// checkPath refuses huge, empty and NUL-containing paths.
func checkPath(s string) Errno {
	switch {
	case len(s) > maxPathLen:
		return ErrnoNametoolong
	case s == "":
		return ErrnoNoent
	case strings.IndexByte(s, 0) >= 0:
		return ErrnoInval
	}
	return ErrnoSuccess
}

// dirEntry returns the directory descriptor fd.
func (in *Instance) dirEntry(fd uint32) (*fdEntry, Errno) {
	e := in.lookup(fd)
	switch {
	case e == nil:
		return nil, ErrnoBadf
	case e.kind != kindDir:
		return nil, ErrnoNotdir
	}
	return e, ErrnoSuccess
}

// resolve turns name, relative to the directory dir of preopen pre, into a path inside that
// preopen's FS ("." for its root). Absolute names, ".." above the root and symlinks that are
// absolute or lead above the root answer EPERM. Symlinks are followed (inside the FS) in
// every component except a final one when follow is false; a trailing slash makes the final
// component a directory, so it is followed and must be one. This needs the FS to implement
// fs.ReadLinkFS, otherwise the FS itself must not contain symlinks leading out. A component
// that exists but is not a directory answers ENOTDIR when anything follows it ("file/",
// "file/.", "file/../x"), as POSIX requires.
func (in *Instance) resolve(pre int, dir, name string, follow bool) (string, Errno) {
	if strings.HasPrefix(name, "/") {
		return "", ErrnoPerm
	}
	fsys := in.cfg.Preopens[pre].FS
	rl, _ := fsys.(fs.ReadLinkFS)
	var stack []string
	if dir != "." {
		stack = strings.Split(dir, "/")
	}
	isDir := true // the last component of stack is known to be a directory (dir is one)
	todo := strings.Split(name, "/")
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".", "..":
			if !isDir {
				// The lexical steps below would hide a file: check it is a directory.
				if errno := mustBeDir(fsys, stack, c == ".."); errno != ErrnoSuccess {
					return "", errno
				}
				isDir = true
			}
			if c != ".." {
				continue
			}
			if len(stack) == 0 {
				return "", ErrnoPerm
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, c)
		isDir = false
		if rl == nil || (!follow && len(todo) == 0) {
			continue
		}
		p := strings.Join(stack, "/")
		if !fs.ValidPath(p) {
			return "", ErrnoNoent
		}
		fi, err := rl.Lstat(p)
		switch {
		case err != nil:
			continue
		case fi.Mode()&fs.ModeSymlink == 0 && fi.IsDir():
			isDir = true
			continue
		case fi.Mode()&fs.ModeSymlink == 0 && len(todo) > 0:
			return "", ErrnoNotdir
		case fi.Mode()&fs.ModeSymlink == 0:
			continue
		}
		if hops++; hops > maxSymlinks {
			return "", ErrnoLoop
		}
		target, err := rl.ReadLink(p)
		switch {
		case err != nil:
			return "", errnoOf(err)
		case target == "":
			return "", ErrnoNoent
		case strings.HasPrefix(target, "/"):
			return "", ErrnoPerm
		}
		stack = stack[:len(stack)-1]
		isDir = true // the link's parent, which Lstat went through
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(stack) == 0 {
		return ".", ErrnoSuccess
	}
	p := strings.Join(stack, "/")
	if !fs.ValidPath(p) {
		return "", ErrnoNoent
	}
	return p, ErrnoSuccess
}

// mustBeDir checks that the path stack names a directory, if it exists: ENOTDIR for anything
// else. A missing one is fine ("new/" may be created) unless dotdot, which must step out of it.
func mustBeDir(fsys fs.FS, stack []string, dotdot bool) Errno {
	if len(stack) == 0 {
		return ErrnoSuccess
	}
	p := strings.Join(stack, "/")
	if !fs.ValidPath(p) {
		return ErrnoNoent
	}
	fi, err := fs.Stat(fsys, p)
	switch {
	case err == nil && !fi.IsDir():
		return ErrnoNotdir
	case err != nil && (dotdot || !errors.Is(err, fs.ErrNotExist)):
		return errnoOf(err)
	}
	return ErrnoSuccess
}

// escapes reports whether a symlink at p (a path inside a preopen) has a target that is
// absolute or climbs above the preopen's root, judged on the target's text alone.
func escapes(p, target string) bool {
	if strings.HasPrefix(target, "/") {
		return true
	}
	depth := 0
	if d := path.Dir(p); d != "." {
		depth = strings.Count(d, "/") + 1
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// statPath stats a resolved path, without following a final symlink unless follow.
func (in *Instance) statPath(pre int, p string, follow bool) (stat, Errno) {
	fsys := in.cfg.Preopens[pre].FS
	var fi fs.FileInfo
	var err error
	if rl, ok := fsys.(fs.ReadLinkFS); ok && !follow {
		fi, err = rl.Lstat(p)
	} else {
		fi, err = fs.Stat(fsys, p)
	}
	if err != nil {
		return stat{}, errnoOf(err)
	}
	return statOf(fi), ErrnoSuccess
}

// statAt stats name under the directory dir.
func (in *Instance) statAt(dir *fdEntry, name string, follow bool) (stat, Errno) {
	rp, errno := in.resolve(dir.preopen, dir.path, name, follow)
	if errno != ErrnoSuccess {
		return stat{}, errno
	}
	return in.statPath(dir.preopen, rp, follow)
}

func pathFilestatGet(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	dir, errno := in.dirEntry(uint32(p[0]))
	if errno != ErrnoSuccess {
		return errno
	}
	name, errno := readPath(m, uint32(p[2]), uint32(p[3]))
	if errno != ErrnoSuccess {
		return errno
	}
	st, errno := in.statAt(dir, name, uint32(p[1])&lookupSymlinkFollow != 0)
	if errno != ErrnoSuccess {
		return errno
	}
	if !m.Write(uint32(p[4]), st.bytes()) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func pathReadlink(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	dir, errno := in.dirEntry(uint32(p[0]))
	if errno != ErrnoSuccess {
		return errno
	}
	buf, bufLen, usedPtr := uint32(p[3]), uint32(p[4]), uint32(p[5])
	if uint64(buf)+uint64(bufLen) > m.Size() {
		return ErrnoFault
	}
	if _, ok := m.ReadUint32Le(usedPtr); !ok {
		return ErrnoFault
	}
	name, errno := readPath(m, uint32(p[1]), uint32(p[2]))
	if errno != ErrnoSuccess {
		return errno
	}
	target, errno := in.readlinkAt(dir, name)
	if errno != ErrnoSuccess {
		return errno
	}
	if uint32(len(target)) > bufLen {
		target = target[:bufLen]
	}
	m.Write(buf, []byte(target))
	m.WriteUint32Le(usedPtr, uint32(len(target)))
	return ErrnoSuccess
}

// readlinkAt reads the symlink name under the directory dir; a target leading out of the
// preopen is host information: it answers as resolving it would (EPERM).
func (in *Instance) readlinkAt(dir *fdEntry, name string) (string, Errno) {
	rp, errno := in.resolve(dir.preopen, dir.path, name, false)
	if errno != ErrnoSuccess {
		return "", errno
	}
	rl, ok := in.cfg.Preopens[dir.preopen].FS.(fs.ReadLinkFS)
	if !ok {
		return "", ErrnoInval
	}
	fi, err := rl.Lstat(rp)
	if err != nil {
		return "", errnoOf(err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", ErrnoInval
	}
	target, err := rl.ReadLink(rp)
	if err != nil {
		return "", errnoOf(err)
	}
	if escapes(rp, target) {
		return "", ErrnoPerm
	}
	if _, errno := in.resolve(dir.preopen, path.Dir(rp), target, true); errno == ErrnoPerm {
		return "", ErrnoPerm
	}
	return target, ErrnoSuccess
}
