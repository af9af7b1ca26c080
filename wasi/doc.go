// Package wasi implements WASI preview1 (module "wasi_snapshot_preview1") as hlwasm host
// functions ([api.HostFunction]) usable by every engine.
//
// The implementation trusts nothing the guest writes: every pointer and length goes through
// [api.Memory] bounds checks (a bad pointer answers EFAULT), guest-chosen sizes are capped or
// processed in bounded chunks, and path lookups never leave a preopened directory ("..", absolute
// paths and symlinks leading out are refused with EPERM, and path_readlink does not reveal such
// a link's target), and writable preopens bound file sizes (Preopen.MaxFileSize).
//
// Preopened directories are [fs.FS] values, read-only by default: any attempt to create,
// truncate, write or remove answers EROFS. A preopen marked Writable must implement
// [WritableFS]; [RootFS] adapts an [os.Root], whose kernel-backed confinement also holds against
// a host directory changing under the guest. Not supported: sockets (sock_* answer ENOSYS),
// proc_raise (ENOSYS), creating links and symlinks, setting file times and rights (ENOTSUP).
//
// Standard streams are shared: every Instance (and every [WithStdio] context) using one host
// reader or writer takes turns on it, one fd_read or fd_write at a time, so sandboxes sharing a
// Config do not race on its Stdout. [WithStdio] gives the calls made with a context their own
// streams. fd_read and fd_write on them end with the call's context: a pollable *os.File gets a
// deadline, any other blocking stream is used from a goroutine the call leaves (fd_read then
// keeps what that read returns for the next read, fd_write waits for it before the next write,
// so nothing is lost or reordered); the call fails with the context's error.
//
// Standard streams are reported as wazero reports non-terminal streams (a block device), so
// that guests behave identically on both; poll_oneoff reports them, files and directories as
// always ready and only sleeps for clock subscriptions.
//
// With [Instance.EnableBuffering] (host turns it on for every sandbox) small writes to stdout and
// stderr are batched and small reads of regular files served from a read-ahead window, without
// changing what the program observes; the embedder must call [Instance.Flush] when each call
// ends. buffering.go says what is batched, when it is flushed, and how a batched write's error
// reaches the program (its next write on that stream, else Flush's [ErrOutput]). An engine
// whose guest answers small fd_write/fd_read calls itself (hlwasm's micro-VMs) hands what it
// buffered to [Instance.GuestDrain] and gets the descriptor table and read windows from
// [Instance.GuestPublish] (guestio.go).
//
// A [Instance] holds the per-guest state (the file-descriptor table: 0, 1, 2 are stdio, 3... the
// preopens, then files the guest opens); [Instance.Reset] returns it to its initial state for a
// sandbox reset.
package wasi
