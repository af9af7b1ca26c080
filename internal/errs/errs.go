// Package errs defines the errors that every engine reports alike: traps, the sentinels for a
// call's context and Close, and a host function's failure. package host aliases them, so errors.Is and
// errors.As work the same whichever engine ran the call.
package errs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// Sentinels.
var (
	ErrTrap = errors.New("wasm trap")
	// ErrDeadline and ErrCanceled also match context.DeadlineExceeded and context.Canceled
	// (errors.Is), so code written for context errors sees them.
	ErrDeadline error = &ctxSentinel{"deadline exceeded", context.DeadlineExceeded}
	ErrCanceled error = &ctxSentinel{"call canceled", context.Canceled}
	ErrClosed         = errors.New("closed")
	// ErrUnsupportedFeature: a module uses a proposal hlwasm does not implement; the error
	// names it (the host's reader, internal/wasmbin, and the guest engine report it alike).
	ErrUnsupportedFeature = errors.New("unsupported feature")
)

// ctxSentinel is a sentinel that also matches a context error.
type ctxSentinel struct {
	msg string
	ctx error
}

func (e *ctxSentinel) Error() string        { return e.msg }
func (e *ctxSentinel) Is(target error) bool { return target == e.ctx }

// FromContext is ErrDeadline or ErrCanceled, by why ctx ended; the cause counts (a nested
// call's context ends with the cause of the call it is nested in). A context whose deadline
// has passed ended by it even before its own timer has fired (Expired).
func FromContext(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || ctx.Err() == nil && Expired(ctx) {
		return ErrDeadline
	}
	return ErrCanceled
}

// Expired reports whether ctx has ended or its deadline has passed. The two differ while a
// deadline's timer waits for a P of Go's scheduler, which every P running a guest can delay by
// milliseconds (package vmm: a run keeps its P); the guest's own deadline timer does not wait.
func Expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// HostError is a host function's failure that ended a call; errors.As/Is see the cause.
type HostError struct {
	Func string // "module.name"
	Err  error
}

func (e *HostError) Error() string { return fmt.Sprintf("host function %s: %v", e.Func, e.Err) }
func (e *HostError) Unwrap() error { return e.Err }

// PanicError is a panic in a host function, recovered; Stack is where it happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// TrapKind says why Wasm code trapped (abi.Trap*).
type TrapKind uint32

// String is the spec's wording for the kind.
func (k TrapKind) String() string {
	if k < abi.TrapCount {
		return abi.TrapMessages[k]
	}
	return fmt.Sprintf("unknown trap %d", uint32(k))
}

// TrapError is a Wasm trap, from either engine and from nested calls alike; errors.Is(err,
// ErrTrap) holds.
type TrapError struct {
	Kind TrapKind
	Msg  string // the engine's message (starts with the spec's wording)
}

func (e *TrapError) Error() string {
	if e.Msg != "" {
		return "trap: " + e.Msg
	}
	return "trap: " + e.Kind.String()
}

func (e *TrapError) Unwrap() error { return ErrTrap }
