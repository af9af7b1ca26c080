package wasi_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
)

// readlink calls path_readlink on name under dirfd and returns the errno and target.
func (g *guest) readlink(dirfd uint32, name string) (wasi.Errno, string) {
	p, n := g.path(name)
	g.mem.WriteUint32Le(8, 0)
	e := g.call("path_readlink", uint64(dirfd), p, n, 300, 200, 8)
	return e, string(g.mem[300 : 300+min(g.u32(8), 200)])
}

// TestReadlinkHidesOutsideTargets: a symlink whose target is absolute or leads out of the
// preopen answers EPERM, as resolving it does, and reveals nothing.
func TestReadlinkHidesOutsideTargets(t *testing.T) {
	g := fsGuest(t)
	for _, tc := range []struct {
		dirfd        uint32
		name, target string
		want         wasi.Errno
	}{
		{3, "link_in", "sub/nested.txt", wasi.ErrnoSuccess},
		{3, "sub/link_up", "../hello.txt", wasi.ErrnoSuccess},
		{4, "sub/link_up", "../hello.txt", wasi.ErrnoSuccess},
		{3, "link_out", "", wasi.ErrnoPerm},
		{3, "link_abs", "", wasi.ErrnoPerm},
		{3, "sub/link_esc", "", wasi.ErrnoPerm},
	} {
		e, target := g.readlink(tc.dirfd, tc.name)
		require.Equal(t, tc.want, e, tc.name)
		require.Equal(t, tc.target, target, tc.name)
	}

	// Host directories: an absolute target and one climbing out.
	wg, dir, outside := writableGuest(t)
	require.NoError(t, os.Symlink("../../secret", filepath.Join(dir, "up")))
	for _, name := range []string{"out", "outfile", "up"} {
		e, target := wg.readlink(3, name)
		require.Equal(t, wasi.ErrnoPerm, e, name)
		require.Empty(t, target, name)
	}
	require.NotEmpty(t, outside)
}

// TestTrailingSlashOnFile: "file/" and "file/." name a directory, so a regular file there
// answers ENOTDIR (POSIX) in every path function; directories and links to them still work.
func TestTrailingSlashOnFile(t *testing.T) {
	g := fsGuest(t)
	for _, name := range []string{"sub/nested.txt/", "hello.txt/", "hello.txt/.", "hello.txt//", "link_in/", "hello.txt/../sub"} {
		e, _ := g.open(3, name, 0, 0, rightFdRead)
		require.Equal(t, wasi.ErrnoNotdir, e, "path_open "+name)
		e, _ = g.open(3, name, follow, 0, rightFdRead)
		require.Equal(t, wasi.ErrnoNotdir, e, "path_open follow "+name)
		p, n := g.path(name)
		require.Equal(t, wasi.ErrnoNotdir, g.call("path_filestat_get", 3, 0, p, n, 200), "path_filestat_get "+name)
		require.Equal(t, wasi.ErrnoNotdir, g.call("path_filestat_get", 3, follow, p, n, 200), "path_filestat_get follow "+name)
	}
	for _, name := range []string{"sub/", "sub/.", "link_dir/", "./sub//deeper/", "sub/deeper/.."} {
		e, fd := g.open(3, name, 0, 0, rightFdRead)
		require.Equal(t, wasi.ErrnoSuccess, e, name)
		require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", uint64(fd)))
	}

	wg, dir, _ := writableGuest(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	e, _ := wg.open(3, "f/", 0, oflagCreat, rightFdWrite)
	require.Equal(t, wasi.ErrnoNotdir, e)
	p, n := wg.path("f/")
	require.Equal(t, wasi.ErrnoNotdir, wg.call("path_unlink_file", 3, p, n))
	require.Equal(t, wasi.ErrnoNotdir, wg.call("path_remove_directory", 3, p, n))
	require.Equal(t, wasi.ErrnoNotdir, wg.call("path_filestat_get", 3, 0, p, n, 200))
	require.FileExists(t, filepath.Join(dir, "f"))
	p, n = wg.path("newdir/")
	require.Equal(t, wasi.ErrnoSuccess, wg.call("path_create_directory", 3, p, n))
	require.DirExists(t, filepath.Join(dir, "newdir"))
}

// TestMaxFileSize: a writable preopen bounds file sizes (1 GiB by default): growing a file
// beyond answers EFBIG, however it is attempted, and a write straddling the limit is short.
func TestMaxFileSize(t *testing.T) {
	g, dir, _ := writableGuest(t)
	e, fd := g.open(3, "big", 0, oflagCreat, rightFdWrite|rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	f := uint64(fd)
	const over = 2 << 30 // 2 GiB: sparse, so the file system would allow it
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_filestat_set_size", f, over))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_filestat_set_size", f, 1<<62))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_allocate", f, over, 1))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_allocate", f, 0, over))
	g.put(1000, []byte("data"))
	g.iovecs(100, 1000, 4)
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_pwrite", f, 100, 1, over, 8))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_pwrite", f, 100, 1, 1<<62, 8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_seek", f, over, 0, 16))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_write", f, 100, 1, 8))
	// Straddling the limit: the bytes that fit are written.
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_pwrite", f, 100, 1, 1<<30-2, 8))
	require.Equal(t, uint32(2), g.u32(8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_set_size", f, 1<<30))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", f))
	fi, err := os.Stat(filepath.Join(dir, "big"))
	require.NoError(t, err)
	require.Equal(t, int64(1<<30), fi.Size())

	// A configured limit, with appends.
	r, err := os.OpenRoot(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	g = newGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(r), Writable: true, MaxFileSize: 10}}})
	g.put(4096, []byte("a"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_open", 3, 0, 4096, 1, oflagCreat, rightFdWrite, 0, fdflagAppend, 8))
	f = uint64(g.u32(8))
	g.put(1000, []byte("0123456789abcdef"))
	g.iovecs(100, 1000, 6)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", f, 100, 1, 8))
	require.Equal(t, uint32(6), g.u32(8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", f, 100, 1, 8))
	require.Equal(t, uint32(4), g.u32(8))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_write", f, 100, 1, 8))
	require.Equal(t, wasi.ErrnoFbig, g.call("fd_filestat_set_size", f, 11))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_set_size", f, 3))
	b, err := os.ReadFile(filepath.Join(r.Name(), "a"))
	require.NoError(t, err)
	require.Equal(t, "012", string(b))

	// A negative limit disables the check.
	r2, err := os.OpenRoot(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { r2.Close() })
	g = newGuest(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/", FS: wasi.RootFS(r2), Writable: true, MaxFileSize: -1}}})
	e, fd = g.open(3, "sparse", 0, oflagCreat, rightFdWrite)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_set_size", uint64(fd), over))
}
