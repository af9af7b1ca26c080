package wazeroengine

import (
	"errors"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/errs"
)

// Error sentinels (wrapped; use errors.Is).
var (
	// ErrImport: the module imports something funcs does not provide (or with another signature).
	ErrImport = errors.New("wazeroengine: unresolved import")
	// ErrDuplicate: funcs holds the same module and name twice.
	ErrDuplicate = errors.New("wazeroengine: duplicate host function")
	// ErrNoExport: Call named a function the module does not export.
	ErrNoExport = errors.New("wazeroengine: no such exported function")
	// ErrParams: Call got the wrong number of parameters.
	ErrParams = errors.New("wazeroengine: wrong parameter count")
	// ErrConfig: Config is invalid.
	ErrConfig = errors.New("wazeroengine: invalid configuration")
)

// HostError is a host function's error as returned by Call (ExitError aside, which Call returns
// bare): the one definition every engine uses.
type HostError = errs.HostError

// wazeroTraps maps wazero's runtime error texts to hlwasm trap kinds. wazero reports both
// call_indirect on a missing element and out-of-range table.get/set/copy as "invalid table
// access"; it is mapped to TrapUndefinedElement, the call_indirect case.
var wazeroTraps = map[string]uint32{
	"unreachable":                   abi.TrapUnreachable,
	"out of bounds memory access":   abi.TrapMemoryOutOfBounds,
	"integer divide by zero":        abi.TrapDivideByZero,
	"integer overflow":              abi.TrapIntegerOverflow,
	"invalid conversion to integer": abi.TrapInvalidConversion,
	"indirect call type mismatch":   abi.TrapIndirectTypeMismatch,
	"invalid table access":          abi.TrapUndefinedElement,
	"stack overflow":                abi.TrapCallStackExhausted,
	"null reference":                abi.TrapNullReference,
	"uncaught exception":            abi.TrapUncaughtException,
}

// TrapKind classifies an error returned by Instance.Call as an hlwasm trap kind (abi.Trap*):
// wazero runtime traps by their message, host function errors as abi.TrapHost. Exits
// (*api.ExitError), context ends and other errors report ok == false.
func TrapKind(err error) (kind uint32, ok bool) {
	if err == nil {
		return abi.TrapNone, false
	}
	var exit *api.ExitError
	if errors.As(err, &exit) {
		return 0, false
	}
	var host *HostError
	if errors.As(err, &host) {
		return abi.TrapHost, true
	}
	// wazero words traps as "wasm error: <message>\nwasm stack trace: ...", except stack
	// overflow, which comes bare.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if i := strings.Index(msg, "wasm error: "); i >= 0 {
		msg = msg[i+len("wasm error: "):]
	}
	kind, ok = wazeroTraps[msg]
	return kind, ok
}
