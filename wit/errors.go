package wit

import (
	"errors"
	"fmt"
)

// ErrTrap is wrapped by every error caused by what a guest wrote or returned: a lift or lower
// that the Canonical ABI says traps. Each such error also wraps one of the more specific
// sentinels below, so errors.Is(err, ErrTrap) and errors.Is(err, ErrBadPointer) both hold.
var ErrTrap = errors.New("wit: canonical ABI trap")

// Specific causes of a trap.
var (
	// ErrBadPointer: a pointer (or pointer+length) lies outside linear memory.
	ErrBadPointer = errors.New("pointer out of bounds")
	// ErrMisaligned: a pointer is not aligned to the alignment of the value stored there.
	ErrMisaligned = errors.New("misaligned pointer")
	// ErrInvalidUTF8: a string is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrLimit: a list or string (or all of a call's lifted values together) exceeds the
	// configured byte limit ([Options.MaxBytes]).
	ErrLimit = errors.New("value exceeds size limit")
	// ErrInvalidValue: a discriminant, char or other encoded value is out of range.
	ErrInvalidValue = errors.New("invalid encoded value")
	// ErrRealloc: the guest's cabi_realloc is missing, failed, or returned a bad pointer.
	ErrRealloc = errors.New("cabi_realloc failed")
)

// Errors that are the host's fault, not the guest's.
var (
	// ErrType: a Go value does not match the WIT type it is lowered to or lifted into, or
	// a Go function cannot be bound to a WIT function.
	ErrType = errors.New("wit: type mismatch")
	// ErrNotFound: no function of that name in the world.
	ErrNotFound = errors.New("wit: function not found")
	// ErrUnsupported: a WIT feature this package does not implement (async, future, stream,
	// error-context).
	ErrUnsupported = errors.New("wit: unsupported feature")
	// ErrUnbound: a world import has no Go implementation.
	ErrUnbound = errors.New("wit: import not bound")
	// ErrWAVE: a WAVE value could not be parsed.
	ErrWAVE = errors.New("wit: bad WAVE value")
)

func trapf(cause error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrTrap, cause, fmt.Sprintf(format, args...))
}

func typeErrf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrType, fmt.Sprintf(format, args...))
}
