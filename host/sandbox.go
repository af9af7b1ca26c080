package host

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
)

// Sandbox is one instance of a module in its own micro-VM (or, with EngineWazero, in-process). Calls on one sandbox are
// serialized. After a trap the sandbox stays usable (Wasm state is whatever the trapping call
// left, as in any engine); after a deadline, cancellation or guest fault it is unusable and
// must be closed.
type Sandbox struct {
	mod    *Module
	in     instance
	wasi   *wasi.Instance // the sandbox's own WASI state, if the module imports WASI
	linked LinkedHost     // the sandbox's host state, for a linked set (LoadLinked)
	state  api.State      // host-side per-instance state (State), emptied by Reset
	closed atomic.Bool    // Close was called (Observer.SandboxClosed once; Reset's ErrClosed)
	lease  *lease         // set on a handle lent by Module.WithSandbox (see lease)
}

// Call calls an exported function. Parameters and results are encoded as in wazero: i32 and
// i64 as their bits, f32/f64 via math.Float32bits/Float64bits. The name, arity and parameter
// count are checked on the host before anything enters the VM. The context's deadline or
// cancellation stops a running guest.
func (s *Sandbox) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	if err := s.lease.enter(); err != nil {
		return nil, err
	}
	defer s.lease.exit()
	if s.mod.rt.cfg.Observer == nil {
		return s.call(ctx, name, params)
	}
	return s.mod.observeCall(ctx, name, func(ctx context.Context) ([]uint64, error) { return s.call(ctx, name, params) })
}

func (s *Sandbox) call(ctx context.Context, name string, params []uint64) ([]uint64, error) {
	f, ok := s.mod.funcs[name]
	if !ok {
		return nil, errNoExport(name)
	}
	if slots(f.ParamTypes) != len(params) {
		return nil, fmt.Errorf("%w: %s takes %d parameters %v, got %d", ErrArguments, name, len(f.ParamTypes), f.ParamTypes, len(params))
	}
	ctx, cancel := bounded(ctx, s.mod.rt.cfg.CallTimeout)
	defer cancel()
	ctx = api.WithState(ctx, &s.state) // host functions the call reaches find the sandbox's state
	vo := s.mod.rt.vmObs
	var exits0 uint64
	if vo != nil {
		exits0 = s.in.exits()
	}
	res, err := s.in.call(ctx, f, params)
	if vo != nil {
		vo.VMExits(ctx, s.mod, name, s.in.exits()-exits0)
	}
	if s.wasi != nil {
		// Batched output is written however the call ended (trap, exit, deadline included).
		// A write error the program could not be told of fails a call that had succeeded.
		var exit *api.ExitError
		switch ferr := s.wasi.Flush(ctx); {
		case ferr == nil:
		case err == nil:
			res, err = nil, ferr
		case errors.As(err, &exit):
			err = errors.Join(err, ferr) // both the exit code and the lost output
		}
	}
	if err != nil {
		if !errors.Is(err, ErrTrap) {
			err = fmt.Errorf("calling %s: %w", name, err)
		}
		return nil, err
	}
	return res, nil
}

func slots(ts []api.ValueType) int {
	n := 0
	for _, t := range ts {
		n += t.Slots()
	}
	return n
}

// SandboxStats is what a sandbox costs the host (Sandbox.Stats).
type SandboxStats struct {
	// VMExits is the number of VM exits the sandbox has taken since it was created (counted by
	// the host; 0 on wazero).
	VMExits uint64
	// MappedBytes is the guest memory the sandbox can reach now, what Config.MaxSandboxMemory
	// is charged with (on wazero: the linear memory's size).
	MappedBytes uint64
	// PrivateBytes is the memory the sandbox holds on its own: guest pages present or swapped,
	// not counting pages still shared with its module's snapshot.
	PrivateBytes uint64
	// SnapshotBytes is the size of the state the sandbox is reset to; SnapshotShared says that
	// it is shared with the module's other sandboxes (kept once in memory for a module, see
	// docs/ARCHITECTURE.md).
	SnapshotBytes  uint64
	SnapshotShared bool
	// DirtiedPages is the number of 4 KiB pages the last Reset restored, cleared or released:
	// what the call before it changed.
	DirtiedPages int
	// EngineHeapUsed and CodeUsed are the engine heap and the compile tier's code region the
	// guest reports having handed out so far (micro-VMs only; untrusted, for sizing
	// Config.EngineHeapBytes). EngineHeapBytes and CodeBytes are their sizes in this sandbox.
	EngineHeapUsed, EngineHeapBytes uint64
	CodeUsed, CodeBytes             uint64
	// LocalIOCalls counts the WASI fd_write/fd_read calls the guest answered itself, with no
	// host call (micro-VMs only, since the sandbox started or was last reset; untrusted).
	LocalIOCalls uint64
}

// Stats measures the sandbox's memory (micro-VMs: one scan of its page tables).
func (s *Sandbox) Stats() (SandboxStats, error) {
	if err := s.lease.enter(); err != nil {
		return SandboxStats{}, err
	}
	defer s.lease.exit()
	return s.in.stats()
}

// Module is the module this sandbox runs.
func (s *Sandbox) Module() *Module { return s.mod }

// Close stops the sandbox's VM and releases it. A sandbox lent by Module.WithSandbox is not
// closed (ErrArguments): it goes back to the pool when the function it was lent to returns.
func (s *Sandbox) Close(ctx context.Context) error {
	_ = ctx
	if s.lease != nil {
		return fmt.Errorf("%w: a sandbox lent by Module.WithSandbox goes back to the pool when the function returns; it cannot be closed", ErrArguments)
	}
	if o := s.mod.rt.cfg.Observer; !s.closed.Swap(true) && o != nil {
		o.SandboxClosed(s.mod)
	}
	err := s.in.close()
	if s.wasi != nil {
		s.wasi.Close()
	}
	if s.linked != nil {
		_ = s.linked.Close()
	}
	return err
}

func errNoExport(name string) error { return fmt.Errorf("%w: %q", ErrNoExport, name) }

// memoryTimeout bounds Memory's request to the guest (Memory has no context, for wit.Instance).
const memoryTimeout = 5 * time.Second

// Memory is a bounded view of the sandbox's memory 0 as it is now (nil if it has none): every
// access is range-checked and reads return copies. It stays valid until the next call into the
// sandbox, which may grow the memory. Sandbox thereby implements wit.Instance.
func (s *Sandbox) Memory() api.Memory {
	if s.lease.enter() != nil {
		return nil
	}
	defer s.lease.exit()
	ctx, cancel := context.WithTimeout(context.Background(), memoryTimeout)
	defer cancel()
	m, err := s.in.memory(ctx)
	if err != nil {
		return nil
	}
	return m
}

// State is the sandbox's host-side state (see api.State): host functions it calls see the same
// with api.StateFromContext. Reset empties it, so fresh-state calls (Module.Call) never share
// it. The wit package keeps the handle tables of exported resources there.
func (s *Sandbox) State() *api.State { return &s.state }

// HasExport reports whether the module exports a function of that name.
func (s *Sandbox) HasExport(name string) bool {
	_, ok := s.mod.funcs[name]
	return ok
}
