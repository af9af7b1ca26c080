// Package host is hlwasm's public Go API: a Runtime loads WebAssembly modules and creates
// sandboxes, each a KVM micro-VM running hlwasm's Wasm engine at CPL3, and calls their exports.
// Two sandboxes hold each guest: the engine (Wasm semantics) and the VM (hardware). The host
// trusts nothing a guest writes.
//
//	rt, err := host.NewRuntime(ctx, host.Config{})
//	mod, err := rt.LoadModule(ctx, wasmBytes)
//	sb, err := mod.NewSandbox(ctx)
//	results, err := sb.Call(ctx, "add", 2, 3)
package host

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
	"github.com/hlwasm/hlwasm/wasi"
)

// Config configures a Runtime. The zero value is usable.
type Config struct {
	// Engine chooses micro-VMs (the default) or in-process wazero (reduced isolation).
	Engine Engine
	// Tier chooses compiled code (the default) or the interpreter inside micro-VMs.
	Tier Tier
	// MaxMemoryPages caps every linear memory, in 64 KiB pages: a module whose initial memory
	// is larger fails to load and memory.grow past it returns -1. Default 16384 (1 GiB).
	MaxMemoryPages uint32
	// MaxCallDepth caps nested Wasm calls; deeper calls trap "call stack exhausted". Default 10000.
	MaxCallDepth uint32
	// MaxModuleBytes caps the size of a module (of each part of a linked set). Default and
	// maximum 256 MiB, the engine's own limit (abi.MaxModuleBytes). A module's sandboxes get a
	// transfer window of its own size, not of this cap.
	MaxModuleBytes uint64
	// EngineHeapBytes is the guest heap the engine has for a module's data besides linear
	// memory: parsed and validated module, slot code, tables, host modules. Default: sized from
	// the module, 64 MiB plus 16 bytes per byte of its code section, 2 per byte of its data
	// section and 16 per byte of the rest, plus 8 per slot of its tables' minimum sizes
	// (docs/ARCHITECTURE.md, "Sizes that follow the module"). Guest memory is reserved, not allocated: only what the engine touches costs
	// memory. A module that needs more fails to load (or a call that does fails) with ErrLimit
	// naming this setting. SandboxStats.EngineHeapUsed says what a sandbox used.
	EngineHeapBytes uint64
	// Spin is how long an idle sandbox keeps its vCPU spinning on the shared mailbox after a
	// call: a call that arrives meanwhile costs no VM exit (well under a microsecond instead of
	// one exit), at the price of a busy host core for that time. Zero parks at once (one exit
	// per call; after a call that made many host calls, see HostCallSpin). Default 0. A sandbox
	// with Spin > 0 has a dedicated vCPU thread (something must be inside KVM_RUN while it
	// spins); otherwise the calling goroutine runs the vCPU itself (docs/ARCHITECTURE.md, "Which
	// thread runs the vCPU").
	Spin time.Duration
	// HostCallSpin, for sandboxes without Spin: once a call makes host calls in quick
	// succession, its caller spins on the mailbox and serves them without VM exits, until none
	// comes for HostCallSpin; after such a call the guest spins as long for the next call of
	// that export (docs/ARCHITECTURE.md, "Exit-less host calls: the hot phase"). The price is up
	// to two busy cores meanwhile (the CPU column of `hlwasm bench`). 0: the default, 50µs;
	// negative: never, every host call costs one VM exit.
	HostCallSpin time.Duration
	// HostFunctions are the functions modules may import, beyond the default hlwasm.log (the
	// allow-list: a module importing anything else is refused at load, naming each import).
	HostFunctions []api.HostFunction
	// WASI, when set, allows modules to import wasi_snapshot_preview1 (all 46 functions) with
	// this configuration: arguments, environment, stdio, preopened directories. Each sandbox
	// gets its own WASI state (descriptor table), returned to this configuration by Reset.
	WASI *wasi.Config
	// Log receives what guests write with hlwasm.log(ptr, len). Nil discards it.
	Log io.Writer
	// NoDefaultLog removes hlwasm.log from the allow-list.
	NoDefaultLog bool
	// AllowImports, when set, narrows what modules may import to the provided host functions
	// (hlwasm.log, WASI, HostFunctions) whose "module.name" matches an entry: "module.name"
	// exactly, or "module.*" for all of a module's. A module importing anything else is
	// refused at load (ErrImportNotAllowed, naming each import). Entries name functions, so a
	// typo is not caught here: an entry that matches nothing provided allows nothing.
	// Linked sets (components) import through their LinkedHost, which this does not narrow.
	AllowImports []string
	// PoolSize bounds the sandboxes Module.Call keeps per module. Default runtime.NumCPU().
	PoolSize int
	// SpareSandboxes is how many sandboxes per module NewSandbox keeps made ahead of time, in
	// the background, so that it hands one out instead of creating a VM on the caller's path
	// (each taken is replaced at once). They cost what as many idle sandboxes in their
	// snapshot state cost, and the CPU time of making them. Default 0: every NewSandbox but
	// the module's first creates its own.
	SpareSandboxes int
	// ResetMode chooses how a sandbox finds the memory pages to restore on Reset.
	// Default ResetCompare; see machine.ResetMode and docs/ARCHITECTURE.md for measurements.
	ResetMode ResetMode
	// NoSnapshot skips the snapshot of a micro-VM sandbox's state after instantiation, for
	// programs run once (`hlwasm run`): loading is faster (no copy of the instance's memory is
	// written) and holds less memory, but no sandbox can be reset or saved (Sandbox.Reset and
	// Module.SaveSnapshot fail with ErrNoSnapshot), every sandbox after the module's first boots
	// and loads the module anew, and so does every Module.Call (each on a new sandbox, still
	// fresh state).
	NoSnapshot bool
	// SnapshotKey, when set, authenticates snapshot files: Module.SaveSnapshot writes an
	// HMAC-SHA256 with it and Runtime.LoadSnapshot refuses files whose HMAC does not verify
	// (ErrSnapshotUnauthenticated), unkeyed files included. Without it files are only
	// checksummed (corruption, not forgery; see docs/ARCHITECTURE.md).
	SnapshotKey []byte
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
	// MaxSandboxMemory caps the guest memory one sandbox may reach — linear memories, tables
	// and the engine's data alike, plus the transfer window (the module's size) — charged
	// before the host maps each 2 MiB region; a sandbox that needs more fails with ErrLimit. The
	// host keeps at most about as much again for the sandbox's snapshot, shared between the
	// sandboxes of a module. Default: what the layout allows (the module's transfer window,
	// code region and engine heap + MaxMemoryPages × 64 KiB).
	MaxSandboxMemory uint64
	// CallTimeout bounds every call whose context has no deadline of its own (Sandbox.Call,
	// Module.Call, including the wait for a pooled sandbox): a guest that loops, or a host
	// function that blocks, ends with ErrDeadline. Default DefaultCallTimeout; NoTimeout
	// (any negative value) for none.
	CallTimeout time.Duration
	// LoadTimeout bounds making a module's instance when the context has no deadline: loading
	// (parsing, validation and instantiation in the guest, a start function, a reactor's
	// _initialize) and every new sandbox. Default DefaultLoadTimeout; NoTimeout for none.
	LoadTimeout time.Duration
	// Observer, when set, is told of every call, host function call and sandbox (metrics,
	// tracing). Nil costs nothing.
	Observer Observer
}

// Default limits, and the value that removes one (only when set explicitly).
const (
	DefaultCallTimeout = time.Minute
	DefaultLoadTimeout = time.Minute
	NoTimeout          = time.Duration(-1)
	// DefaultMaxModuleBytes is Config.MaxModuleBytes's default and maximum: the engine's limit.
	DefaultMaxModuleBytes = abi.MaxModuleBytes
)

// bounded gives ctx the deadline d unless it has one (d < 0: none).
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || d < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Runtime holds the shared /dev/kvm handle and creates modules and sandboxes. Safe for
// concurrent use.
type Runtime struct {
	kvm     *machine.KVM
	wzCache wazeroengine.Cache // EngineWazero: compiled code shared by its modules
	cfg     Config
	vmObs   VMObserver // cfg.Observer, when it is one too
	log     *slog.Logger

	mu     sync.Mutex
	closed bool
}

// NewRuntime opens /dev/kvm. It fails with ErrNoKVM on machines without usable KVM.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	_ = ctx
	var k *machine.KVM
	switch cfg.Engine {
	case EngineMicroVM:
		var err error
		if k, err = machine.OpenKVM(); err != nil {
			return nil, fmt.Errorf("%w: %w (EngineWazero runs without KVM, with reduced isolation)", ErrNoKVM, err)
		}
	case EngineWazero:
	default:
		return nil, fmt.Errorf("%w: unknown engine %v", ErrUnsupportedEngine, cfg.Engine)
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = runtime.NumCPU()
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.LoadTimeout == 0 {
		cfg.LoadTimeout = DefaultLoadTimeout
	}
	cfg.SnapshotKey = slices.Clone(cfg.SnapshotKey) // the caller may reuse its slice
	cfg.AllowImports = slices.Clone(cfg.AllowImports)
	for _, p := range cfg.AllowImports {
		if err := CheckImportPattern(p); err != nil {
			return nil, fmt.Errorf("Config.AllowImports: %w", err)
		}
	}
	if cfg.MaxModuleBytes == 0 {
		cfg.MaxModuleBytes = DefaultMaxModuleBytes
	}
	if cfg.MaxModuleBytes > DefaultMaxModuleBytes {
		return nil, fmt.Errorf("%w: Config.MaxModuleBytes %s exceeds the engine's limit on a module, %s",
			ErrLimit, sizeString(cfg.MaxModuleBytes), sizeString(DefaultMaxModuleBytes))
	}
	if cfg.EngineHeapBytes > machine.MaxGuestMemory {
		return nil, fmt.Errorf("%w: Config.EngineHeapBytes %s exceeds the %s of guest memory a micro-VM has",
			ErrLimit, sizeString(cfg.EngineHeapBytes), sizeString(machine.MaxGuestMemory))
	}
	if cfg.MaxMemoryPages > 65536 {
		return nil, fmt.Errorf("%w: Config.MaxMemoryPages %d exceeds 65536 (4 GiB, the most a 32-bit memory holds)", ErrLimit, cfg.MaxMemoryPages)
	}
	if cfg.WASI != nil {
		if _, err := wasi.New(*cfg.WASI); err != nil {
			return nil, fmt.Errorf("WASI configuration: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if k != nil {
		if mode, err := machine.ResetScan(); err != nil {
			log.Warn("hlwasm: resets compare every guest page (slow, still correct)", "scan", mode, "err", err)
		}
		if mode, why := k.ThreadMode(); mode == machine.ThreadDedicated {
			log.Info("hlwasm: vCPUs run on dedicated threads (each call wakes one)", "why", why)
		}
	}
	r := &Runtime{kvm: k, cfg: cfg, log: log}
	r.vmObs, _ = cfg.Observer.(VMObserver)
	if cfg.Engine == EngineWazero {
		r.wzCache = wazeroengine.NewCache()
	}
	return r, nil
}

func (r *Runtime) machineConfig() machine.Config {
	return machine.Config{
		KVM:          r.kvm,
		MaxPages:     r.cfg.MaxMemoryPages,
		MaxCallDepth: r.cfg.MaxCallDepth,
		GuestSpin:    r.cfg.Spin,
		HostCallSpin: r.cfg.HostCallSpin,
		MemoryBudget: r.cfg.MaxSandboxMemory,
		Tier:         r.cfg.Tier.abi(),
	}
}

// Close releases /dev/kvm. Sandboxes already created keep working until closed.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.wzCache != nil {
		r.wzCache.Close(ctx)
	}
	if r.kvm == nil {
		return nil
	}
	return r.kvm.Close()
}

// ResetMode chooses how Reset finds the guest memory pages that changed. Neither mode relies on
// anything the guest reports.
type ResetMode = machine.ResetMode

// Reset modes.
const (
	// ResetCompare compares each resident guest-writable page with the snapshot.
	ResetCompare = machine.ResetCompare
	// ResetDirtyLog uses KVM's dirty-page log.
	ResetDirtyLog = machine.ResetDirtyLog
)
