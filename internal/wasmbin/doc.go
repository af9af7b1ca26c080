// Package wasmbin reads the signatures of an untrusted WebAssembly binary on the host: its
// types, imports, functions, tables, memories, globals, exports and start function, before any
// of it reaches the guest. Code, data, element and custom sections are skipped by size.
//
// The reader is defensive rather than complete: every count, length and index is bounds
// checked, allocations are capped by the bytes actually present, and no input makes it panic.
// It is exact for valid modules; for invalid ones it reports a clear error (wrapping
// ErrMalformed, ErrInvalid or ErrUnsupported) or, where full validation would be needed,
// leaves the rejection to the engine inside the VM.
package wasmbin

import (
	"errors"

	"github.com/hlwasm/hlwasm/internal/errs"
)

// Sentinel errors, for errors.Is.
var (
	// ErrMalformed: the bytes are not a well-formed binary module.
	ErrMalformed = errors.New("malformed module")
	// ErrInvalid: the module decodes but an index or name in the parts read here is invalid.
	ErrInvalid = errors.New("invalid module")
	// ErrUnsupported: a construct of a proposal this reader does not support (threads,
	// GC...).
	ErrUnsupported = errs.ErrUnsupportedFeature
)
