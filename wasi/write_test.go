package wasi_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
)

const (
	oflagExcl    = 4
	fdflagAppend = 1
)

// writableGuest preopens a fresh host directory, writable, at / (fd 3) and another at /o (fd 4).
func writableGuest(t *testing.T) (*guest, string, string) {
	dir, other := t.TempDir(), t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "out")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "f"), filepath.Join(dir, "outfile")))
	r1, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r1.Close() })
	r2, err := os.OpenRoot(other)
	require.NoError(t, err)
	t.Cleanup(func() { r2.Close() })
	g := newGuest(t, wasi.Config{Preopens: []wasi.Preopen{
		{GuestPath: "/", FS: wasi.RootFS(r1), Writable: true},
		{GuestPath: "/o", FS: wasi.RootFS(r2), Writable: true},
	}})
	return g, dir, outside
}

func (g *guest) path(name string) (uint64, uint64) {
	g.put(4096, []byte(name))
	return 4096, uint64(len(name))
}

func TestWritable(t *testing.T) {
	g, dir, outside := writableGuest(t)
	// Create and write.
	e, fd := g.open(3, "new.txt", 0, oflagCreat|oflagExcl, rightFdWrite)
	require.Equal(t, wasi.ErrnoSuccess, e)
	f := uint64(fd)
	g.put(1000, []byte("hello world"))
	g.iovecs(100, 1000, 5, 1005, 6)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", f, 100, 2, 8))
	require.Equal(t, uint32(11), g.u32(8))
	g.iovecs(100, 1000, 1)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_pwrite", f, 100, 1, 6, 8))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_read", f, 100, 1, 8), "write-only")
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_allocate", f, 0, 20))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_get", f, 200))
	require.Equal(t, uint64(20), g.u64(232))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_filestat_set_size", f, 11))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_sync", f))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", f))
	b, err := os.ReadFile(filepath.Join(dir, "new.txt"))
	require.NoError(t, err)
	require.Equal(t, "hello horld", string(b))
	e, _ = g.open(3, "new.txt", 0, oflagCreat|oflagExcl, rightFdWrite)
	require.Equal(t, wasi.ErrnoExist, e)

	// Append.
	g.put(4096, []byte("new.txt"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_open", 3, 0, 4096, 7, 0, rightFdWrite|rightFdRead, 0, fdflagAppend, 8))
	f = uint64(g.u32(8))
	g.iovecs(100, 1000, 3)
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_write", f, 100, 1, 8))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_tell", f, 16))
	require.Equal(t, uint64(14), g.u64(16))
	require.Equal(t, wasi.ErrnoSuccess, g.call("fd_close", f))
	b, _ = os.ReadFile(filepath.Join(dir, "new.txt"))
	require.Equal(t, "hello horldhel", string(b))

	// Read-only open of a writable preopen: no writes.
	e, fd = g.open(3, "new.txt", 0, 0, rightFdRead)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_write", uint64(fd), 100, 1, 8))
	require.Equal(t, wasi.ErrnoBadf, g.call("fd_filestat_set_size", uint64(fd), 0))
	g.call("fd_close", uint64(fd))

	// Directories.
	p, n := g.path("d")
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_create_directory", 3, p, n))
	require.Equal(t, wasi.ErrnoExist, g.call("path_create_directory", 3, p, n))
	e, _ = g.open(3, "d", 0, 0, rightFdWrite)
	require.Equal(t, wasi.ErrnoIsdir, e)
	g.put(4096, []byte("new.txtd/x.txt"))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_rename", 3, 4096, 7, 3, 4103, 7))
	require.FileExists(t, filepath.Join(dir, "d", "x.txt"))
	p, n = g.path("d")
	require.Equal(t, wasi.ErrnoNotempty, g.call("path_remove_directory", 3, p, n))
	require.Equal(t, wasi.ErrnoIsdir, g.call("path_unlink_file", 3, p, n))
	p, n = g.path("d/x.txt")
	require.Equal(t, wasi.ErrnoNotdir, g.call("path_remove_directory", 3, p, n))
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_unlink_file", 3, p, n))
	p, n = g.path("d")
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_remove_directory", 3, p, n))
	require.NoDirExists(t, filepath.Join(dir, "d"))
	p, n = g.path(".")
	require.Equal(t, wasi.ErrnoBusy, g.call("path_remove_directory", 3, p, n))

	// Nothing escapes, writes included.
	for _, name := range []string{"../x", "/x", "out/x", "outfile", "out/../../x"} {
		e, _ := g.open(3, name, follow, oflagCreat, rightFdWrite)
		require.Equal(t, wasi.ErrnoPerm, e, name)
		p, n := g.path(name)
		want := wasi.ErrnoPerm
		if name == "outfile" {
			want = wasi.ErrnoExist // mkdir does not follow a final symlink: it exists
		}
		require.Equal(t, want, g.call("path_create_directory", 3, p, n), name)
	}
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries)
	// Unlinking the symlink itself is fine: it is inside.
	p, n = g.path("out")
	require.Equal(t, wasi.ErrnoSuccess, g.call("path_unlink_file", 3, p, n))
	require.DirExists(t, outside)

	// Renames across preopens.
	e, fd = g.open(3, "a", 0, oflagCreat, rightFdWrite)
	require.Equal(t, wasi.ErrnoSuccess, e)
	g.call("fd_close", uint64(fd))
	g.put(4096, []byte("ab"))
	require.Equal(t, wasi.ErrnoXdev, g.call("path_rename", 3, 4096, 1, 4, 4097, 1))
	require.Equal(t, wasi.ErrnoNotsup, g.call("path_symlink", 4096, 1, 3, 4097, 1))
	require.Equal(t, wasi.ErrnoNotsup, g.call("path_link", 3, 0, 4096, 1, 3, 4097, 1))
}
