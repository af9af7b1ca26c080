package wasi

import (
	"context"
	"io"
	"io/fs"
	"time"
)

// Config is what the host passes to a WASI guest. The zero value is a guest with no arguments,
// no environment, empty stdin, discarded output, no preopens, the system clock and crypto/rand.
type Config struct {
	// Args are the guest's arguments (args[0] is conventionally the program name).
	Args []string
	// Env holds "KEY=VALUE" entries: only what the host passes, nothing is inherited.
	Env []string
	// Stdin is read by fd 0; nil is an empty stream.
	Stdin io.Reader
	// Stdout and Stderr receive fds 1 and 2; nil discards.
	Stdout, Stderr io.Writer
	// Preopens become fds 3, 4, ... in order.
	Preopens []Preopen
	// Clock supplies realtime, monotonic time and sleeping; nil is the system clock.
	Clock Clock
	// Rand feeds random_get; nil is crypto/rand. Use Instance.Reset with a new Config to reseed.
	Rand io.Reader
	// RefusedWrite, when set, is told of each change the guest tried in a read-only preopen
	// (the guest gets EROFS, as the spec says): the preopen's GuestPath, the operation and
	// the path inside the preopen. hlwasm run prints it, naming --dir-rw.
	RefusedWrite func(preopen, op, path string)
}

// Preopen is a directory the guest may reach as GuestPath (e.g. "/" or "/data").
type Preopen struct {
	// GuestPath is the name reported by fd_prestat_dir_name.
	GuestPath string
	// FS is the directory's content. Prefer (*os.Root).FS() for host directories: it cannot be
	// escaped even by symlinks changed concurrently. If FS implements fs.ReadLinkFS (os.DirFS,
	// fstest.MapFS do), symlinks are resolved here and refused when they lead out of FS.
	FS fs.FS
	// Writable lets the guest change the directory; FS must then implement WritableFS (use
	// RootFS). Otherwise the preopen is read-only and changes answer EROFS.
	Writable bool
	// MaxFileSize bounds the size a guest may give a file of a writable preopen (writes,
	// fd_filestat_set_size, fd_allocate): beyond it they answer EFBIG, and a write straddling
	// it is short. 0 means DefaultMaxFileSize; a negative value means no bound.
	MaxFileSize int64
}

// DefaultMaxFileSize is the file-size bound of a writable preopen whose MaxFileSize is 0: a
// guest must not fill the host's disk, nor create files of 2^63 bytes (sparse, but fatal to
// whatever reads them next).
const DefaultMaxFileSize = 1 << 30

// Clock is the time source of an instance; inject a fake one in tests.
type Clock interface {
	// Now is the realtime clock.
	Now() time.Time
	// Monotonic is a non-decreasing time since an arbitrary origin.
	Monotonic() time.Duration
	// Sleep waits for d or until ctx is done, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock returns the host's clock (monotonic time counted from the call).
func SystemClock() Clock { return systemClock{start: time.Now()} }

type systemClock struct{ start time.Time }

func (systemClock) Now() time.Time             { return time.Now() }
func (c systemClock) Monotonic() time.Duration { return time.Since(c.start) }
func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
