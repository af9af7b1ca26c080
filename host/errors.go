package host

import (
	"errors"
	"fmt"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/errs"
	"github.com/hlwasm/hlwasm/internal/machine"
)

// Sentinel errors; every error the API returns wraps one of them (errors.Is).
var (
	// ErrTrap: the Wasm code trapped. errors.As(err, *TrapError) gives the kind.
	ErrTrap = errs.ErrTrap
	// ErrDeadline: the context's deadline expired (or Config.CallTimeout/LoadTimeout) and the
	// guest was stopped. errors.Is(err, context.DeadlineExceeded) holds too.
	ErrDeadline = machine.ErrDeadline
	// ErrCanceled: the context was canceled and the guest was stopped.
	// errors.Is(err, context.Canceled) holds too.
	ErrCanceled = machine.ErrCanceled
	// ErrGuestFault: the guest misbehaved at the machine level (CPU exception, protocol violation).
	ErrGuestFault = machine.ErrGuestFault
	// ErrInvalidModule: the module is malformed, fails validation, or cannot be instantiated.
	ErrInvalidModule = errors.New("invalid module")
	// ErrImportNotAllowed: the module imports something the host did not allow.
	ErrImportNotAllowed = errors.New("import not allowed")
	// ErrNoExport: no function export of that name.
	ErrNoExport = errors.New("no such exported function")
	// ErrArguments: wrong number of arguments for the export's signature.
	ErrArguments = errors.New("wrong arguments")
	// ErrLimit: a configured or engine limit was exceeded.
	ErrLimit = machine.ErrLimit
	// ErrUnusable: the sandbox failed earlier (trap-free failures: fault, deadline) and must be closed.
	ErrUnusable = machine.ErrUnusable
	// ErrClosed: the sandbox, module or runtime is closed.
	ErrClosed = machine.ErrClosed
	// ErrUnsupportedFeature: the module uses a WebAssembly proposal hlwasm does not implement
	// (threads, GC's struct and array types...); the error names it. It comes
	// wrapped in ErrInvalidModule.
	ErrUnsupportedFeature = errs.ErrUnsupportedFeature
	// ErrUnsupportedEngine: the operation needs another engine.
	ErrUnsupportedEngine = errors.New("not supported by this engine")
	// ErrNoSnapshot: the sandbox has no snapshot to reset to or save (Config.NoSnapshot).
	ErrNoSnapshot = errors.New("sandbox has no snapshot (Config.NoSnapshot)")
	// ErrNoKVM: /dev/kvm cannot be used.
	ErrNoKVM = errors.New("KVM is not available")
)

// Error types, for errors.As; one definition each, whichever engine ran the call.
type (
	// FaultError is a guest CPU exception (micro-VMs): vector, error code, RIP, CR2, RSP.
	FaultError = machine.FaultError
	// HostError is a host function's failure that ended a call; Err is the function's error.
	HostError = errs.HostError
	// PanicError is a host function's panic, recovered, with its stack.
	PanicError = errs.PanicError
)

// TrapKind says why Wasm code trapped; String is the spec's wording.
type TrapKind = errs.TrapKind

// Trap kinds (the spec's wording is TrapKind.String()).
const (
	TrapUnreachable          TrapKind = abi.TrapUnreachable
	TrapMemoryOutOfBounds    TrapKind = abi.TrapMemoryOutOfBounds
	TrapDivideByZero         TrapKind = abi.TrapDivideByZero
	TrapIntegerOverflow      TrapKind = abi.TrapIntegerOverflow
	TrapInvalidConversion    TrapKind = abi.TrapInvalidConversion
	TrapIndirectTypeMismatch TrapKind = abi.TrapIndirectTypeMismatch
	TrapUndefinedElement     TrapKind = abi.TrapUndefinedElement
	TrapUninitializedElement TrapKind = abi.TrapUninitializedElement
	TrapCallStackExhausted   TrapKind = abi.TrapCallStackExhausted
	TrapTableOutOfBounds     TrapKind = abi.TrapTableOutOfBounds
	TrapNullReference        TrapKind = abi.TrapNullReference
	TrapHost                 TrapKind = abi.TrapHost
	// TrapUncaughtException: an exception (exception handling) no handler caught reached the
	// export the host called. Host functions do not catch: an exception a nested call (a call
	// from a host function back into Wasm) leaves uncaught fails that nested call with this
	// kind, and it does not continue into the Wasm frames below the host function.
	TrapUncaughtException TrapKind = abi.TrapUncaughtException
	// TrapNullFunctionReference: call_ref or return_call_ref of a null reference.
	TrapNullFunctionReference TrapKind = abi.TrapNullFunctionReference
	// TrapNullI31Reference: i31.get_s or i31.get_u of a null reference (GC).
	TrapNullI31Reference TrapKind = abi.TrapNullI31Reference
	// TrapCastFailure: ref.cast of a reference of another type (GC).
	TrapCastFailure TrapKind = abi.TrapCastFailure
	// TrapNullStructReference: struct.get or struct.set of a null reference (GC).
	TrapNullStructReference TrapKind = abi.TrapNullStructReference
	// TrapNullArrayReference: an array instruction on a null reference (GC).
	TrapNullArrayReference TrapKind = abi.TrapNullArrayReference
	// TrapArrayOutOfBounds: an array index or range out of bounds (GC).
	TrapArrayOutOfBounds TrapKind = abi.TrapArrayOutOfBounds
	// TrapHeapExhausted: no room in the engine heap for a GC object, even after a collection.
	TrapHeapExhausted TrapKind = abi.TrapHeapExhausted
)

// TrapError is a Wasm trap, whichever engine ran it, nested calls included. errors.Is(err,
// ErrTrap) holds.
type TrapError = errs.TrapError

// ImportError lists the imports a module may not have.
type ImportError struct {
	Imports []string // "module.name (kind signature)"
}

func (e *ImportError) Error() string {
	s := "module imports what the host does not allow:"
	for _, i := range e.Imports {
		s += " " + i + ";"
	}
	return s[:len(s)-1]
}

func (e *ImportError) Unwrap() error { return ErrImportNotAllowed }

// translate maps errors from the machine layer to the public API's.
// A *HostError is left whole: the guest error in its chain is the answer of a nested call
// that the host function returned, and the function's own error is what ended the call.
func translate(err error) error {
	var ge *machine.GuestError
	if errors.As(err, new(*HostError)) {
		return err
	}
	if errors.As(err, &ge) {
		switch {
		case errors.Is(err, machine.ErrTrap):
			return ge.Trapped()
		case errors.Is(err, machine.ErrNoMemory):
			// The engine's own out-of-memory: name the setting that raises it.
			return fmt.Errorf("%w: the engine heap of %s is exhausted (%s): Config.EngineHeapBytes (hlwasm --engine-heap) raises it",
				ErrLimit, sizeString(ge.HeapBytes), ge.Msg)
		case ge.Status == abi.StatusLimit:
			// No setting raises these: say where they are listed.
			return fmt.Errorf("%w (a fixed limit of the engine: wasmguest/engine/LIMITS.md)", err)
		case errors.Is(err, machine.ErrMalformed), errors.Is(err, machine.ErrInvalid),
			errors.Is(err, machine.ErrUnlinkable), errors.Is(err, machine.ErrUnsupported):
			return fmt.Errorf("%w: %w", ErrInvalidModule, err)
		}
	}
	return err
}
