package wasi

import (
	"context"
	"io/fs"
	"slices"
	"sync"

	"github.com/hlwasm/hlwasm/api"
)

// handler implements one function returning an errno; it runs with the instance locked.
type handler func(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno

// rawHandler implements a function that manages locking and results itself.
type rawHandler func(in *Instance, ctx context.Context, m api.Memory, stack []uint64) error

type funcDef struct {
	name   string
	params string // one letter per parameter: i = i32, I = i64
	fn     handler
	raw    rawHandler
	noRes  bool // proc_exit has no result
	// neutral functions leave buffering's window open (buffering.go): they neither block, nor
	// change anything, nor let the program see the order of its output relative to anything
	// else. Every other function first flushes batched output and drops read-ahead buffers.
	neutral neutrality
}

// neutrality says when a function is neutral.
type neutrality uint8

const (
	never    neutrality = iota
	always              // reads of arguments, environment, randomness, descriptor flags
	onFile              // when its fd (the first parameter) is an open regular file: reads, seeks
	onStdout            // when its fd is stdout or stderr: fd_write
)

// funcDefs lists the 46 preview1 functions in the spec's order.
var funcDefs = []funcDef{
	{name: "args_get", params: "ii", fn: argsGet, neutral: always},
	{name: "args_sizes_get", params: "ii", fn: argsSizesGet, neutral: always},
	{name: "environ_get", params: "ii", fn: environGet, neutral: always},
	{name: "environ_sizes_get", params: "ii", fn: environSizesGet, neutral: always},
	{name: "clock_res_get", params: "ii", fn: clockResGet},
	{name: "clock_time_get", params: "iIi", fn: clockTimeGet},
	{name: "fd_advise", params: "iIIi", fn: fdAdvise},
	{name: "fd_allocate", params: "iII", fn: fdAllocate},
	{name: "fd_close", params: "i", fn: fdClose},
	{name: "fd_datasync", params: "i", fn: fdSync},
	{name: "fd_fdstat_get", params: "ii", fn: fdFdstatGet, neutral: always},
	{name: "fd_fdstat_set_flags", params: "ii", fn: fdFdstatSetFlags},
	{name: "fd_fdstat_set_rights", params: "iII", fn: fdFdstatSetRights},
	{name: "fd_filestat_get", params: "ii", fn: fdFilestatGet},
	{name: "fd_filestat_set_size", params: "iI", fn: fdFilestatSetSize},
	{name: "fd_filestat_set_times", params: "iIIi", fn: fdFilestatSetTimes},
	{name: "fd_pread", params: "iiiIi", fn: fdPread, neutral: onFile},
	{name: "fd_prestat_get", params: "ii", fn: fdPrestatGet},
	{name: "fd_prestat_dir_name", params: "iii", fn: fdPrestatDirName},
	{name: "fd_pwrite", params: "iiiIi", fn: fdPwrite},
	{name: "fd_read", params: "iiii", raw: fdRead, neutral: onFile},
	{name: "fd_readdir", params: "iiiIi", fn: fdReaddir},
	{name: "fd_renumber", params: "ii", fn: fdRenumber},
	{name: "fd_seek", params: "iIii", fn: fdSeek, neutral: onFile},
	{name: "fd_sync", params: "i", fn: fdSync},
	{name: "fd_tell", params: "ii", fn: fdTell, neutral: onFile},
	{name: "fd_write", params: "iiii", raw: fdWrite, neutral: onStdout},
	{name: "path_create_directory", params: "iii", fn: pathCreateDirectory},
	{name: "path_filestat_get", params: "iiiii", fn: pathFilestatGet},
	{name: "path_filestat_set_times", params: "iiiiIIi", fn: pathUnsupported(0)},
	{name: "path_link", params: "iiiiiii", fn: pathUnsupported(0)},
	{name: "path_open", params: "iiiiiIIii", fn: pathOpen},
	{name: "path_readlink", params: "iiiiii", fn: pathReadlink},
	{name: "path_remove_directory", params: "iii", fn: pathRemoveDirectory},
	{name: "path_rename", params: "iiiiii", fn: pathRename},
	{name: "path_symlink", params: "iiiii", fn: pathUnsupported(2)},
	{name: "path_unlink_file", params: "iii", fn: pathUnlinkFile},
	{name: "poll_oneoff", params: "iiii", raw: pollOneoff},
	{name: "proc_exit", params: "i", raw: procExit, noRes: true},
	{name: "proc_raise", params: "i", fn: nosys},
	{name: "sched_yield", params: "", raw: schedYield},
	{name: "random_get", params: "ii", raw: randomGet, neutral: always},
	{name: "sock_accept", params: "iii", fn: nosys},
	{name: "sock_recv", params: "iiiiii", fn: nosys},
	{name: "sock_send", params: "iiiii", fn: nosys},
	{name: "sock_shutdown", params: "ii", fn: nosys},
}

// signature is d as a host function without an implementation.
func (d funcDef) signature() api.HostFunction {
	// Every function returns when its context ends: blocking stdio is interruptible, sleeps
	// and long loops watch the context.
	h := api.HostFunction{ModuleName: ModuleName, Name: d.name, HonorsContext: true}
	for _, c := range d.params {
		if c == 'I' {
			h.ParamTypes = append(h.ParamTypes, api.ValueTypeI64)
		} else {
			h.ParamTypes = append(h.ParamTypes, api.ValueTypeI32)
		}
	}
	if !d.noRes {
		h.ResultTypes = []api.ValueType{api.ValueTypeI32}
	}
	return h
}

var signatures = sync.OnceValue(func() []api.HostFunction {
	out := make([]api.HostFunction, len(funcDefs))
	for i, d := range funcDefs {
		out[i] = d.signature()
	}
	return out
})

// Signatures lists the preview1 functions with their signatures and no implementation (Fn is
// nil): what a linker needs to check a module's imports, without making an Instance.
func Signatures() []api.HostFunction { return slices.Clone(signatures()) }

func (in *Instance) hostFunctions() []api.HostFunction {
	out := Signatures()
	for i, d := range funcDefs {
		out[i].Fn = in.bind(d)
	}
	return out
}

func (in *Instance) bind(d funcDef) api.GoFunction {
	n := len(d.params)
	return func(ctx context.Context, m api.Memory, stack []uint64) error {
		if m == nil {
			m = api.ByteMemory(nil) // every access fails: EFAULT
		}
		if len(stack) < n || len(stack) < 1 && !d.noRes {
			return ErrStack
		}
		if in.isBuffered() {
			in.beforeCall(ctx, d.neutral, uint32(stack[0]))
		}
		if d.raw != nil {
			return d.raw(in, ctx, m, stack)
		}
		in.mu.Lock()
		e := d.fn(in, ctx, m, stack[:n])
		in.mu.Unlock()
		stack[0] = uint64(e)
		return nil
	}
}

// beforeCall ends buffering's window unless the function is neutral for fd (buffering.go).
func (in *Instance) beforeCall(ctx context.Context, n neutrality, fd uint32) {
	switch n {
	case always:
		return
	case onFile, onStdout:
		in.mu.Lock()
		e := in.lookup(fd)
		isFile := e != nil && e.kind == kindFile
		var fi fs.FileInfo
		if isFile {
			fi, _ = e.stat()
		}
		in.mu.Unlock()
		switch {
		case isFile && n == onFile:
			in.flushBeforeFileRead(ctx, fi)
			return
		case e != nil && n == onStdout && (e.kind == kindStdout || e.kind == kindStderr):
			return
		}
	}
	in.sync(ctx)
}

func nosys(*Instance, context.Context, api.Memory, []uint64) Errno { return ErrnoNosys }
