package spectest

import (
	"context"
	"errors"

	"github.com/hlwasm/hlwasm/internal/machine"
)

// Instance is a handle to an instantiated module, meaningful to the Store that made it.
type Instance uint32

// Backend makes Stores; one Store serves one JSON file.
type Backend interface {
	Name() string
	NewStore(ctx context.Context) (Store, error)
}

// Store holds the instances of one test file, linked by registered names.
//
// Errors are classified with errors.Is against the sentinels of package machine:
// ErrMalformed, ErrInvalid, ErrUnlinkable, ErrTrap (including traps of a start function or of
// segment initialisation). For a trap, the runner reads the message from a *machine.GuestError
// or from an error implementing TrapMessager.
type Store interface {
	// Instantiate decodes, validates, links and instantiates a module and runs its start function.
	Instantiate(ctx context.Context, wasm []byte) (Instance, error)
	// Register makes inst's exports importable under name.
	Register(ctx context.Context, inst Instance, name string) error
	// Invoke calls an exported function. Params and results are uint64 slots: i32
	// zero-extended, floats as bits, references as 0 (null) or an opaque non-zero handle,
	// v128 as two slots (low, high).
	Invoke(ctx context.Context, inst Instance, export string, params []uint64) ([]uint64, error)
	// GetGlobal reads an exported global (two slots for v128).
	GetGlobal(ctx context.Context, inst Instance, export string) ([]uint64, error)
	Close() error
}

// InstantiateAser is implemented by stores that can only name a module when instantiating it
// (wazero). When a module command is directly followed by its register command, the runner
// calls InstantiateAs instead of Instantiate; Register with the same name then succeeds.
type InstantiateAser interface {
	InstantiateAs(ctx context.Context, wasm []byte, name string) (Instance, error)
}

// Deviator is implemented by backends with documented departures from the spec: a failed
// command for which Deviation returns a reason is counted as skipped, with that reason.
// err is the backend's error for the command (nil if it succeeded).
type Deviator interface {
	Deviation(commandType, text string, err error) string
}

// LineDeviator names individual commands (file and line) whose expectation a backend
// deliberately does not meet, with the reason; the runner counts them as skipped.
type LineDeviator interface {
	LineDeviation(file string, line int) string
}

// TrapMessager is implemented by trap errors whose spec wording is not exact: any of the
// messages may be the one the spec expects.
type TrapMessager interface {
	TrapMessages() []string
}

// ErrNoExport is returned for an export name the instance does not have (or of the wrong kind).
var ErrNoExport = errors.New("no such export")

// ErrBackendUnsupported marks something a backend cannot do; the runner counts the command
// as skipped and names the reason.
var ErrBackendUnsupported = errors.New("not supported by this backend")

// trapMessages are the candidate spec messages of a trap error.
func trapMessages(err error) []string {
	var tm TrapMessager
	if errors.As(err, &tm) {
		return tm.TrapMessages()
	}
	var ge *machine.GuestError
	if errors.As(err, &ge) {
		msgs := []string{machine.TrapMessage(ge.Trap)}
		if ge.Msg != "" {
			msgs = append(msgs, ge.Msg)
		}
		return msgs
	}
	return nil
}
