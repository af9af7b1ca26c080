package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
)

// Engine chooses where sandboxes run.
type Engine int

const (
	// EngineMicroVM runs every sandbox in its own KVM micro-VM: two sandboxes, the Wasm engine
	// and the hardware. The default.
	EngineMicroVM Engine = iota
	// EngineWazero runs sandboxes in-process on wazero, for machines without /dev/kvm and for
	// differential testing. Isolation is reduced to the Wasm engine's alone; hlwasm never
	// falls back to it silently: it must be asked for.
	EngineWazero
)

func (e Engine) String() string {
	switch e {
	case EngineMicroVM:
		return "microvm"
	case EngineWazero:
		return "wazero"
	}
	return fmt.Sprintf("Engine(%d)", int(e))
}

// ParseEngine parses "microvm" or "wazero".
func ParseEngine(s string) (Engine, error) {
	switch s {
	case "microvm":
		return EngineMicroVM, nil
	case "wazero":
		return EngineWazero, nil
	}
	return 0, fmt.Errorf("unknown engine %q (want microvm or wazero)", s)
}

// Tier chooses how the micro-VM engine runs Wasm code (EngineWazero ignores it).
type Tier int

const (
	// TierCompiled compiles every function to x86-64 machine code inside the guest when the
	// module loads (the default). The guest's code region is sized from the module (5 bytes
	// per byte of code section, 64 MiB to 1 GiB); an instance that does not fit is interpreted.
	TierCompiled Tier = iota
	// TierInterp interprets the engine's validated slot code.
	TierInterp
)

func (t Tier) String() string {
	switch t {
	case TierCompiled:
		return "compiled"
	case TierInterp:
		return "interp"
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// ParseTier parses "compiled" or "interp".
func ParseTier(s string) (Tier, error) {
	switch s {
	case "compiled":
		return TierCompiled, nil
	case "interp":
		return TierInterp, nil
	}
	return 0, fmt.Errorf("unknown tier %q (want compiled or interp)", s)
}

func (t Tier) abi() uint32 {
	if t == TierInterp {
		return abi.TierInterp
	}
	return abi.TierCompiled
}

// instance is one sandbox's engine-specific half.
type instance interface {
	call(ctx context.Context, f FunctionDefinition, params []uint64) ([]uint64, error)
	memory(ctx context.Context) (api.Memory, error)
	reset(ctx context.Context) (pages int, err error) // pages: the 4 KiB pages it restored, cleared or released
	exits() uint64                                    // VM exits so far (0 on wazero)
	stats() (SandboxStats, error)
	close() error
}

// vmInstance is a module instance inside a micro-VM.
type vmInstance struct {
	mach *machine.Machine
	inst uint32
	snap *machine.Snapshot // state right after instantiation
	// memFile is snap as a snapshot file in memory, made with it for the module's first
	// sandbox (its later sandboxes start from it); the module takes it (takeMemFile).
	memFile *machine.SnapshotFile
}

// takeMemFile hands the in-memory snapshot file made with the sandbox's snapshot to the module.
func (v *vmInstance) takeMemFile() (*machine.SnapshotFile, error) {
	sf := v.memFile
	v.memFile = nil
	if sf == nil {
		return nil, fmt.Errorf("%w: no in-memory snapshot was made", ErrGuestFault)
	}
	return sf, nil
}

func (v *vmInstance) call(ctx context.Context, f FunctionDefinition, params []uint64) ([]uint64, error) {
	res, err := v.mach.Call(ctx, v.inst, f.exportIndex, params, slots(f.ResultTypes))
	return res, translate(err)
}

func (v *vmInstance) memory(ctx context.Context) (api.Memory, error) {
	m, err := v.mach.Memory(ctx, v.inst)
	return m, translate(err)
}

func (v *vmInstance) reset(ctx context.Context) (int, error) {
	if v.snap == nil {
		return 0, ErrNoSnapshot
	}
	st, err := v.mach.Reset(ctx, v.snap)
	return st.Restored + st.Cleared + st.Released, err
}

func (v *vmInstance) exits() uint64 { return v.mach.Exits() }

func (v *vmInstance) close() error {
	if v.memFile != nil {
		v.memFile.Close()
	}
	return v.mach.Close()
}

func (v *vmInstance) stats() (SandboxStats, error) {
	u, err := v.mach.Usage(v.snap)
	if err != nil {
		return SandboxStats{}, err
	}
	r := u.LastReset
	g := v.mach.Stats()
	c := v.mach.Config()
	return SandboxStats{VMExits: v.mach.Exits(), MappedBytes: u.MappedBytes, PrivateBytes: u.PrivateBytes, SnapshotBytes: u.SnapshotBytes,
		SnapshotShared: u.SnapshotShared, DirtiedPages: r.Restored + r.Cleared + r.Released,
		EngineHeapUsed: g.HeapUsed, EngineHeapBytes: c.HeapBytes, CodeUsed: g.CodeUsed, CodeBytes: c.CodeBytes, LocalIOCalls: g.IOLocal}, nil
}

// wazeroInstance is a module instance on wazero, in this process.
type wazeroInstance struct {
	mod     *wazeroengine.Module
	ownsMod bool // the module (and its runtime) belongs to this sandbox alone
	inst    *wazeroengine.Instance
	init    *FunctionDefinition // _initialize, run again after each reset
	broken  bool                // a deadline or host failure ended a call: unusable until reset
}

func (w *wazeroInstance) call(ctx context.Context, f FunctionDefinition, params []uint64) ([]uint64, error) {
	if w.broken {
		return nil, fmt.Errorf("%w: an earlier call failed", ErrUnusable)
	}
	res, err := w.inst.Call(ctx, f.Name, params...)
	if err == nil {
		return res, nil
	}
	var exit *api.ExitError
	switch {
	case errors.As(err, &exit):
		w.broken = true
		return nil, err
	case errors.Is(err, context.DeadlineExceeded):
		w.broken = true
		return nil, fmt.Errorf("%w: %w", ErrDeadline, err)
	case errors.Is(err, context.Canceled):
		w.broken = true
		return nil, fmt.Errorf("%w: %w", ErrCanceled, err)
	case errors.As(err, new(*HostError)):
		w.broken = true
		return nil, err
	}
	if kind, ok := wazeroengine.TrapKind(err); ok {
		return nil, &TrapError{Kind: TrapKind(kind), Msg: TrapKind(kind).String()}
	}
	return nil, err
}

// stats knows only the linear memory: wazero's own data is not accounted per instance.
func (w *wazeroInstance) stats() (SandboxStats, error) {
	var n uint64
	if mem := w.inst.Memory(); mem != nil {
		n = mem.Size()
	}
	return SandboxStats{MappedBytes: n, PrivateBytes: n}, nil
}

func (w *wazeroInstance) memory(ctx context.Context) (api.Memory, error) {
	return w.inst.Memory(), nil
}

// reset replaces the instance with a fresh one: the same guarantee as a micro-VM reset.
func (w *wazeroInstance) reset(ctx context.Context) (int, error) {
	w.inst.Close()
	inst, err := w.mod.Instantiate(ctx)
	if err != nil {
		return 0, translateWazeroLoad(err)
	}
	w.inst, w.broken = inst, false
	if w.init != nil {
		if _, err := w.call(ctx, *w.init, nil); err != nil {
			return 0, fmt.Errorf("_initialize: %w", err)
		}
	}
	return 0, nil
}

func (w *wazeroInstance) exits() uint64 { return 0 }

func (w *wazeroInstance) close() error {
	err := w.inst.Close()
	if w.ownsMod {
		w.mod.Close()
	}
	return err
}

func translateWazeroLoad(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrDeadline, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrCanceled, err)
	}
	if kind, ok := wazeroengine.TrapKind(err); ok {
		return &TrapError{Kind: TrapKind(kind), Msg: TrapKind(kind).String()}
	}
	return fmt.Errorf("%w: %w", ErrInvalidModule, err)
}
