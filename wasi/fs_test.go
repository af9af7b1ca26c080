package wasi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
)

const (
	rightFdRead  = 1 << 1
	rightFdWrite = 1 << 6
	oflagCreat   = 1
	oflagDir     = 2
	oflagTrunc   = 8
	follow       = 1
)

// open path_opens name under dirfd and returns the errno and new fd.
func (g *guest) open(dirfd uint32, name string, lookup, oflags uint32, rights uint64) (wasi.Errno, uint32) {
	g.put(4096, []byte(name))
	g.mem.WriteUint32Le(8, 0xffff)
	e := g.call("path_open", uint64(dirfd), uint64(lookup), 4096, uint64(len(name)), uint64(oflags), rights, 0, 0, 8)
	return e, g.u32(8)
}

func fsGuest(t *testing.T) *guest {
	return newGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: testFS()}, {GuestPath: "/sub", FS: testFS()}}})
}

func TestPrestat(t *testing.T) {
	g := fsGuest(t)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_prestat_get", 3, 16))
	require.Equal(t, []uint32{0, 1}, []uint32{g.u32(16), g.u32(20)})
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_prestat_get", 4, 16))
	require.Equal(t, uint32(4), g.u32(20))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_prestat_dir_name", 4, 100, 10))
	require.Equal(t, "/sub", string(g.mem[100:104]))
	require.Equal(t, wasi.ErrnoNametoolong, g.call("fd_prestat_dir_name", 4, 100, 3))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_prestat_dir_name", 4, 65534, 4))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_prestat_get", 3, 65532))
	for _, fd := range []uint64{0, 1, 2, 5, 1 << 31, 0xffffffff} {
		require.Equal(t, wasi.ErrnoBadf, g.call("fd_prestat_get", fd, 16), fd)
	}
	// An opened file is not a preopen.
	e, fd := g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, uint32(5), fd)
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_prestat_get", 5, 16))
}

func TestPathOpenConfinement(t *testing.T) {
	g := fsGuest(t)
	for _, tc := range []struct {
		name   string
		dirfd  uint32
		lookup uint32
		oflags uint32
		rights uint64
		want   wasi.Errno
	}{
		{name: "hello.txt", dirfd: 3, want: wasi.ErrnoSuccess},
		{name: "./sub/../hello.txt", dirfd: 3, want: wasi.ErrnoSuccess},
		{name: "sub//nested.txt", dirfd: 3, want: wasi.ErrnoSuccess},
		{name: "missing", dirfd: 3, want: wasi.ErrnoNoent},
		{name: "..", dirfd: 3, want: wasi.ErrnoPerm},
		{name: "../hello.txt", dirfd: 3, want: wasi.ErrnoPerm},
		{name: "sub/../../hello.txt", dirfd: 3, want: wasi.ErrnoPerm},
		{name: "/etc/passwd", dirfd: 3, want: wasi.ErrnoPerm},
		{name: "/hello.txt", dirfd: 3, want: wasi.ErrnoPerm},
		{name: "link_in", dirfd: 3, lookup: follow, want: wasi.ErrnoSuccess},
		{name: "link_in", dirfd: 3, lookup: 0, want: wasi.ErrnoLoop},
		{name: "link_dir/nested.txt", dirfd: 3, want: wasi.ErrnoSuccess},
		{name: "link_out", dirfd: 3, lookup: follow, want: wasi.ErrnoPerm},
		{name: "link_abs", dirfd: 3, lookup: follow, want: wasi.ErrnoPerm},
		{name: "sub/link_up", dirfd: 3, lookup: follow, want: wasi.ErrnoSuccess},
		{name: "sub/link_esc", dirfd: 3, lookup: follow, want: wasi.ErrnoPerm},
		{name: "loop1", dirfd: 3, lookup: follow, want: wasi.ErrnoLoop},
		// The /sub preopen is the same FS: its root is still the root.
		{name: "..", dirfd: 4, want: wasi.ErrnoPerm},
		{name: "hello.txt", dirfd: 3, oflags: oflagCreat, want: wasi.ErrnoSuccess},
		{name: "new.txt", dirfd: 3, oflags: oflagCreat, want: wasi.ErrnoRofs},
		{name: "hello.txt", dirfd: 3, oflags: oflagTrunc, want: wasi.ErrnoRofs},
		{name: "hello.txt", dirfd: 3, rights: rightFdWrite, want: wasi.ErrnoRofs},
		{name: "hello.txt", dirfd: 3, oflags: oflagDir, want: wasi.ErrnoNotdir},
		{name: "sub", dirfd: 3, oflags: oflagDir, want: wasi.ErrnoSuccess},
		{name: "", dirfd: 3, want: wasi.ErrnoNoent},
		{name: "a\x00b", dirfd: 3, want: wasi.ErrnoInval},
		{name: "hello.txt", dirfd: 0, want: wasi.ErrnoNotdir},
		{name: "hello.txt", dirfd: 77, want: wasi.ErrnoBadf},
	} {
		e, fd := g.open(tc.dirfd, tc.name, tc.lookup, tc.oflags, tc.rights|rightFdRead)
		require.Equal(t, tc.want, e, "%q", tc.name)
		if e == wasi.ErrnoSuccess {
			require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", uint64(fd)))
		}
	}
	// Hostile pointers and lengths.
	require.Equal(t, wasi.ErrnoFault, g.call("path_open", 3, 0, 65530, 10, 0, 0, 0, 0, 8))
	require.Equal(t, wasi.ErrnoNametoolong, g.call("path_open", 3, 0, 0, 0xffffffff, 0, 0, 0, 0, 8))
	g.put(4096, []byte("hello.txt"))
	require.Equal(t, wasi.ErrnoFault, g.call("path_open", 3, 0, 4096, 9, 0, 0, 0, 0, 65534))
}

// TestHostSymlinks: symlinks of a host directory that lead out are refused (os.DirFS and
// os.Root).
func TestHostSymlinks(t *testing.T) {
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("ok"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "abs")))
	rel, err := filepath.Rel(dir, filepath.Join(outside, "secret"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(rel, filepath.Join(dir, "rel")))
	require.NoError(t, os.Symlink(filepath.Dir(rel), filepath.Join(dir, "reldir")))
	require.NoError(t, os.Symlink("ok.txt", filepath.Join(dir, "inside")))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	g := newGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: os.DirFS(dir)}, {GuestPath: "/r", FS: root.FS()}}})
	for _, fd := range []uint32{3, 4} {
		for name, want := range map[string]wasi.Errno{
			"ok.txt": wasi.ErrnoSuccess, "inside": wasi.ErrnoSuccess,
			"abs": wasi.ErrnoPerm, "rel": wasi.ErrnoPerm, "reldir/secret": wasi.ErrnoPerm,
		} {
			e, nfd := g.open(fd, name, follow, 0, rightFdRead)
			require.Equal(t, want, e, "fd %d %s", fd, name)
			if e == wasi.ErrnoSuccess {
				g.call("fd_close", uint64(nfd))
			}
			g.put(4096, []byte(name))
			e = g.call("path_filestat_get", uint64(fd), follow, 4096, uint64(len(name)), 200)
			require.Equal(t, want, e, "stat fd %d %s", fd, name)
		}
	}
}

func TestFileReadSeek(t *testing.T) {
	g := fsGuest(t)
	e, fd := g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	f := uint64(fd)
	g.iovecs(100, 1000, 5, 2000, 3)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", f, 100, 2, 8))
	require.Equal(t, uint32(8), g.u32(8))
	require.Equal(t, "hello", string(g.mem[1000:1005]))
	require.Equal(t, ", w", string(g.mem[2000:2003]))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", f, 16))
	require.Equal(t, uint64(8), g.u64(16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_seek", f, uint64(^uint64(3)+1), 2, 16)) // -3 from end
	require.Equal(t, uint64(10), g.u64(16))
	g.iovecs(100, 1000, 100)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", f, 100, 1, 8))
	require.Equal(t, "ld\n", string(g.mem[1000:1003]))
	require.Equal(t, uint32(3), g.u32(8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_read", f, 100, 1, 8))
	require.Equal(t, uint32(0), g.u32(8), "EOF")
	require.Equal(t, wasi.ErrnoInval, g.call("fd_seek", f, uint64(^uint64(100)+1), 1, 16))
	require.Equal(t, wasi.ErrnoInval, g.call("fd_seek", f, 0, 3, 16))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_seek", f, 0, 0, 65530))
	// pread does not move the offset.
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_seek", f, 2, 0, 16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_pread", f, 100, 1, 7, 8))
	require.Equal(t, "world\n", string(g.mem[1000:1006]))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", f, 16))
	require.Equal(t, uint64(2), g.u64(16))
	require.Equal(t, wasi.ErrnoInval, g.call("fd_pread", f, 100, 1, 1<<63, 8))
	// Stat, fdstat.
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_get", f, 200))
	require.Equal(t, uint8(4), g.mem[216], "regular file")
	require.Equal(t, uint64(13), g.u64(232), "size")
	require.Equal(t, uint64(1600000000e9), g.u64(248), "mtim")
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_fdstat_get", f, 300))
	require.Equal(t, uint8(4), g.mem[300])
	// Writes are refused.
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_write", f, 100, 1, 8))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_pwrite", f, 100, 1, 0, 8))
	require.Equal(t, wasi.ErrnoRofs, g.call("fd_filestat_set_size", f, 0))
	require.Equal(t, wasi.ErrnoRofs, g.call("fd_allocate", f, 0, 10))
	require.Equal(t, wasi.ErrnoSpipe, g.call("fd_seek", 1, 0, 0, 16))
	require.Equal(t, wasi.ErrnoIsdir, g.call("fd_seek", 3, 0, 0, 16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", f))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_close", f))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_read", f, 100, 1, 8))
}

func TestPathFilestat(t *testing.T) {
	g := fsGuest(t)
	stat := func(name string, lookup uint32) (wasi.Errno, uint8) {
		g.put(4096, []byte(name))
		e := g.call("path_filestat_get", 3, uint64(lookup), 4096, uint64(len(name)), 200)
		return e, g.mem[216]
	}
	for _, tc := range []struct {
		name   string
		lookup uint32
		want   wasi.Errno
		ftype  uint8
	}{
		{"hello.txt", 0, wasi.ErrnoSuccess, 4},
		{"sub", 0, wasi.ErrnoSuccess, 3},
		{".", 0, wasi.ErrnoSuccess, 3},
		{"link_in", 0, wasi.ErrnoSuccess, 7},
		{"link_in", follow, wasi.ErrnoSuccess, 4},
		{"link_out", 0, wasi.ErrnoSuccess, 7}, // the link itself is inside
		{"link_out", follow, wasi.ErrnoPerm, 0},
		{"nope", 0, wasi.ErrnoNoent, 0},
	} {
		e, ft := stat(tc.name, tc.lookup)
		require.Equal(t, tc.want, e, tc.name)
		if e == wasi.ErrnoSuccess {
			require.Equal(t, tc.ftype, ft, tc.name)
		}
	}
	g.put(4096, []byte("link_in"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_readlink", 3, 4096, 7, 300, 100, 8))
	require.Equal(t, "sub/nested.txt", string(g.mem[300:300+g.u32(8)]))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_readlink", 3, 4096, 7, 300, 3, 8))
	require.Equal(t, uint32(3), g.u32(8), "truncated")
	require.Equal(t, wasi.ErrnoFault, g.call("path_readlink", 3, 4096, 7, 65530, 100, 8))
	g.put(4096, []byte("hello.txt"))
	require.Equal(t, wasi.ErrnoInval, g.call("path_readlink", 3, 4096, 9, 300, 100, 8))
	require.Equal(t, wasi.ErrnoRofs, g.call("path_unlink_file", 3, 4096, 9))
	require.Equal(t, wasi.ErrnoRofs, g.call("path_create_directory", 3, 4096, 9))
	require.Equal(t, wasi.ErrnoRofs, g.call("path_symlink", 4096, 9, 3, 4096, 9))
	require.Equal(t, wasi.ErrnoBadf, g.call("path_remove_directory", 99, 4096, 9))
}

// readdir calls fd_readdir and decodes the entries: name -> (next cookie, type).
func (g *guest) readdir(fd uint32, bufLen uint32, cookie uint64) (wasi.Errno, []string, []uint64, uint32) {
	e := g.call("fd_readdir", uint64(fd), 10000, uint64(bufLen), cookie, 8)
	used := g.u32(8)
	var names []string
	var nexts []uint64
	for off := uint32(0); off+24 <= used; {
		next, namlen := g.u64(10000+off), g.u32(10000+off+16)
		if off+24+namlen > used {
			break
		}
		names = append(names, string(g.mem[10000+off+24:10000+off+24+namlen]))
		nexts = append(nexts, next)
		off += 24 + namlen
	}
	return e, names, nexts, used
}

func TestReaddir(t *testing.T) {
	g := fsGuest(t)
	e, names, nexts, used := g.readdir(3, 4096, 0)
	require.Equal(t, wasi.ErrnoSuccess, e)
	want := []string{".", "..", "hello.txt", "link_abs", "link_dir", "link_in", "link_out", "loop1", "loop2", "sub"}
	require.Equal(t, want, names)
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nexts)
	require.Less(t, used, uint32(4096), "end of directory")
	require.Equal(t, uint8(3), g.mem[10000+20], "d_type of . is directory")
	// Resume from a cookie.
	_, names, _, _ = g.readdir(3, 4096, 8)
	require.Equal(t, []string{"loop2", "sub"}, names)
	_, names, _, used = g.readdir(3, 4096, 100)
	require.Empty(t, names)
	require.Zero(t, used)
	// A small buffer: one whole entry and a truncated one, bufused == buf_len.
	_, names, _, used = g.readdir(3, 24+1+10, 0)
	require.Equal(t, []string{"."}, names)
	require.Equal(t, uint32(35), used)
	require.Equal(t, wasi.ErrnoInval, g.call("fd_readdir", 3, 10000, 23, 0, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_readdir", 3, 65000, 4096, 0, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_readdir", 3, 10000, 0xffffffff, 0, 8))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_readdir", 1, 10000, 4096, 0, 8))
	// A directory opened with path_open.
	e, fd := g.open(3, "sub", 0, oflagDir, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	_, names, _, _ = g.readdir(fd, 4096, 0)
	require.Equal(t, []string{".", "..", "deeper", "link_esc", "link_up", "nested.txt"}, names)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_fdstat_get", uint64(fd), 300))
	require.Equal(t, uint8(3), g.mem[300])
	// A file is not a directory.
	e, fd = g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_readdir", uint64(fd), 10000, 4096, 0, 8))
	require.True(t, strings.HasPrefix(names[0], "."))
}

func TestResetAndRenumber(t *testing.T) {
	g := fsGuest(t)
	var fds []uint32
	for range 3 {
		e, fd := g.open(3, "hello.txt", 0, 0, rightFdRead)
		require.Equal(t, wasi.ErrnoSuccess, e)
		fds = append(fds, fd)
	}
	require.Equal(t, []uint32{5, 6, 7}, fds)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", 6))
	e, fd := g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, uint32(6), fd, "lowest free descriptor")
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_renumber", 7, 5))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_tell", 7, 16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", 5, 16))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_renumber", 5, 99))
	// onto a free descriptor (7, vacated above): as dup2
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_renumber", 5, 7))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", 7, 16))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_tell", 5, 16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_renumber", 7, 5))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_renumber", 7, 5), "7 is free now")
	// Closing a preopen, then resetting, restores it.
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", 3))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_prestat_get", 3, 16))
	require.NoError(t, g.in.Reset(wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: testFS()}}, Clock: g.clock}))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_prestat_get", 3, 16))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_prestat_get", 4, 16))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_tell", 5, 16))
	e, fd = g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, uint32(4), fd)
	// Too many open files.
	for i := 0; ; i++ {
		e, _ := g.open(3, "hello.txt", 0, 0, rightFdRead)
		if e != wasi.ErrnoSuccess {
			require.Equal(t, wasi.ErrnoMfile, e)
			require.Equal(t, 1023, i)
			break
		}
	}
}

func TestStdioFdstat(t *testing.T) {
	g := newGuest(t, wasi.Config{})
	for fd := uint64(0); fd < 3; fd++ {
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_fdstat_get", fd, 100))
		require.Equal(t, uint8(1), g.mem[100], "block device, as wazero")
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_get", fd, 200))
	}
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_fdstat_set_flags", 1, 4))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_fdstat_get", 1, 100))
	require.Equal(t, uint16(4), uint16(g.mem[102]))
	require.Equal(t, wasi.ErrnoNotsup, g.call("fd_fdstat_set_flags", 0, 16))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_fdstat_get", 3, 100))
	require.Equal(t, wasi.ErrnoFault, g.call("fd_fdstat_get", 1, 65530))
}

// A change refused because its preopen is read-only answers the spec's EROFS and tells
// Config.RefusedWrite which preopen refused it.
func TestRefusedWriteNamesPreopen(t *testing.T) {
	var got []string
	g := newGuest(t, wasi.Config{
		Preopens: []wasi.Preopen{{GuestPath: "/", FS: testFS()}, {GuestPath: "/sub", FS: testFS()}},
		RefusedWrite: func(preopen, op, path string) {
			got = append(got, preopen+" "+op+" "+path)
		},
	})
	e, _ := g.open(4, "new.txt", 0, oflagCreat, rightFdRead)
	require.Equal(t, wasi.ErrnoRofs, e)
	e, _ = g.open(3, "hello.txt", 0, 0, rightFdWrite|rightFdRead)
	require.Equal(t, wasi.ErrnoRofs, e)
	g.put(4096, []byte("newdir"))
	require.Equal(t, wasi.ErrnoRofs, g.call("path_create_directory", 3, 4096, 6))
	e, f := g.open(3, "hello.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, wasi.ErrnoRofs, g.call("fd_filestat_set_size", uint64(f), 0))
	require.Equal(t, []string{"/sub create new.txt", "/ open for writing hello.txt", "/ change newdir",
		"/ resize hello.txt"}, got)
	// Reads are not reported.
	e, _ = g.open(3, "missing", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoNoent, e)
	require.Len(t, got, 4)
}
