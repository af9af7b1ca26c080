package wasi

import (
	"errors"
	"io/fs"
	"syscall"
)

// Errno is a WASI preview1 error number (the result of most functions).
type Errno uint16

// WASI preview1 error numbers used by this package (the full numbering is the spec's).
const (
	ErrnoSuccess     Errno = 0
	Errno2big        Errno = 1
	ErrnoAcces       Errno = 2
	ErrnoAgain       Errno = 6
	ErrnoBadf        Errno = 8
	ErrnoBusy        Errno = 10
	ErrnoExist       Errno = 20
	ErrnoFault       Errno = 21
	ErrnoFbig        Errno = 22
	ErrnoIntr        Errno = 27
	ErrnoInval       Errno = 28
	ErrnoIo          Errno = 29
	ErrnoIsdir       Errno = 31
	ErrnoLoop        Errno = 32
	ErrnoMfile       Errno = 33
	ErrnoNametoolong Errno = 37
	ErrnoNoent       Errno = 44
	ErrnoNomem       Errno = 48
	ErrnoNospc       Errno = 51
	ErrnoNosys       Errno = 52
	ErrnoNotdir      Errno = 54
	ErrnoNotempty    Errno = 55
	ErrnoNotsup      Errno = 58
	ErrnoPerm        Errno = 63
	ErrnoRofs        Errno = 69
	ErrnoSpipe       Errno = 70
	ErrnoXdev        Errno = 75
	ErrnoNotcapable  Errno = 76
)

// Error sentinels returned by New and NewInstance (wrapped; use errors.Is).
var (
	// ErrConfig: the configuration is invalid (a NUL in an argument, a variable without '=',
	// a preopen without FS or with a bad guest path).
	ErrConfig = errors.New("wasi: invalid configuration")
	// ErrWritableUnsupported: a preopen asked for Writable but its FS is not a WritableFS.
	ErrWritableUnsupported = errors.New("wasi: preopen FS is not writable")
	// ErrStack: an engine called a function with a stack smaller than its signature.
	ErrStack = errors.New("wasi: host function stack too small")
)

// errnoOf maps a Go file-system error to a WASI errno.
func errnoOf(err error) Errno {
	var en syscall.Errno
	switch {
	case err == nil:
		return ErrnoSuccess
	case errors.As(err, &en):
		switch en {
		case syscall.ENOENT:
			return ErrnoNoent
		case syscall.ENOTDIR:
			return ErrnoNotdir
		case syscall.EISDIR:
			return ErrnoIsdir
		case syscall.ELOOP:
			return ErrnoLoop
		case syscall.ENAMETOOLONG:
			return ErrnoNametoolong
		case syscall.EACCES:
			return ErrnoAcces
		case syscall.EPERM:
			return ErrnoPerm
		case syscall.EEXIST:
			return ErrnoExist
		case syscall.EROFS:
			return ErrnoRofs
		case syscall.EINVAL:
			return ErrnoInval
		case syscall.EMFILE, syscall.ENFILE:
			return ErrnoMfile
		case syscall.ENOTEMPTY:
			return ErrnoNotempty
		case syscall.EXDEV:
			return ErrnoXdev
		case syscall.ENOSPC, syscall.EDQUOT:
			return ErrnoNospc
		case syscall.EFBIG:
			return ErrnoFbig
		case syscall.EBUSY:
			return ErrnoBusy
		case syscall.EBADF:
			return ErrnoBadf
		}
		return ErrnoIo
	case errors.Is(err, fs.ErrNotExist):
		return ErrnoNoent
	case errors.Is(err, fs.ErrPermission):
		return ErrnoAcces
	case errors.Is(err, fs.ErrExist):
		return ErrnoExist
	case errors.Is(err, fs.ErrInvalid):
		return ErrnoInval
	}
	return ErrnoIo
}
