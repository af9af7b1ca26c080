package spectest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// The "microvm" backend: hlwasm's engine in micro-VMs (internal/machine). It is the default
// backend wherever KVM is available; HLWASM_SPEC_BACKEND=wazero picks wazero instead.

func init() {
	backends["microvm"] = func(suite string) Backend { return MicroVMBackend{Suite: suite} }
	backends["microvm-interp"] = func(suite string) Backend {
		return MicroVMBackend{Suite: suite, Config: machine.Config{Tier: abi.TierInterp}}
	}
	if machine.KVMAvailable() {
		defaultBackend = "microvm"
		defaultAlso = "microvm-interp" // both tiers
	}
}

// MicroVMBackend runs the suite in hlwasm micro-VMs: one machine per Store, that is per file.
// Exports are addressed by their index in the export section, found with internal/wasmbin,
// which also gives the result counts.
type MicroVMBackend struct {
	// Config for each machine. KVM nil: /dev/kvm opened once per process. MaxPages and
	// MemoryBytes both zero: suiteMaxPages and suiteMemoryBytes.
	Config machine.Config
	Suite  string // "v1" or "v2": the engine implements 2.0, see LineDeviation
}

// The engine reserves address space for each memory up to its maximum (or MaxPages), and the
// instances of a file stay alive, so the machine default (one memory of 1 GiB) runs out after
// the first memory of a file. The suite never needs large memories but some files need dozens.
const (
	suiteMaxPages    = 4096     // 256 MiB per memory
	suiteMemoryBytes = 16 << 30 // address space only: guest memory is mapped NORESERVE
)

// openKVM opens /dev/kvm once for all stores of the process.
var openKVM = sync.OnceValues(machine.OpenKVM)

// Name implements Backend.
func (b MicroVMBackend) Name() string {
	if b.Config.Tier == abi.TierInterp {
		return "microvm-interp"
	}
	return "microvm"
}

// spectestModule: the engine has 64-bit tables.
func (b MicroVMBackend) spectestModule() []byte { return spectest64Wasm }

// NewStore implements Backend.
func (b MicroVMBackend) NewStore(ctx context.Context) (Store, error) {
	if _, err := superseded(b.Suite); err != nil {
		return nil, err
	}
	cfg := b.Config
	if cfg.MaxPages == 0 && cfg.MemoryBytes == 0 {
		cfg.MaxPages, cfg.MemoryBytes = suiteMaxPages, suiteMemoryBytes
	}
	if cfg.KVM == nil {
		kvm, err := openKVM()
		if err != nil {
			return nil, fmt.Errorf("open /dev/kvm: %w", err)
		}
		cfg.KVM = kvm
	}
	m, err := machine.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &microVMStore{m: m, mods: map[Instance]*wasmbin.Module{}}, nil
}

// LineDeviation implements LineDeviator for the 1.0 and 2.0 suites: the engine implements Wasm
// 2.0 and parts of 3.0, and the commands of those suites that expect older behaviour where a
// later version changed it are listed, with the reason, in spec-v1-superseded.txt and
// spec-v2-superseded.txt (the hosted C runner skips the same commands).
func (b MicroVMBackend) LineDeviation(file string, line int) string {
	m, _ := superseded(b.Suite) // NewStore fails on a malformed file
	if reason := m[fmt.Sprintf("%s:%d", file, line)]; reason != "" {
		return "Wasm " + reason
	}
	return ""
}

type microVMStore struct {
	m    *machine.Machine
	mods map[Instance]*wasmbin.Module
}

// backendErr marks the engine's unsupported features and documented limits as skips (running
// out of the engine heap, also an ErrLimit, stays a failure: no spec module needs that much).
func backendErr(err error) error {
	if errors.Is(err, machine.ErrUnsupported) || errors.Is(err, machine.ErrLimit) && !errors.Is(err, machine.ErrNoMemory) {
		return fmt.Errorf("%w: %w", ErrBackendUnsupported, err)
	}
	return err
}

// Instantiate loads the module into the guest first, so the engine's own classification of a
// bad module is what the suite checks; the host-side reader must then accept it too.
func (s *microVMStore) Instantiate(ctx context.Context, wasm []byte) (Instance, error) {
	id, err := s.m.Load(ctx, wasm)
	if err != nil {
		return 0, backendErr(err)
	}
	mod, err := wasmbin.Parse(wasm)
	if err != nil {
		return 0, fmt.Errorf("the engine accepted a module that wasmbin rejects: %w", err)
	}
	s.mods[Instance(id)] = mod
	return Instance(id), nil
}

func (s *microVMStore) module(inst Instance) (*wasmbin.Module, error) {
	mod, ok := s.mods[inst]
	if !ok {
		return nil, fmt.Errorf("unknown instance %d", inst)
	}
	return mod, nil
}

func (s *microVMStore) Register(ctx context.Context, inst Instance, name string) error {
	if _, err := s.module(inst); err != nil {
		return err
	}
	return backendErr(s.m.Register(ctx, uint32(inst), name))
}

func slotCount(ts []api.ValueType) int {
	n := 0
	for _, t := range ts {
		n += t.Slots()
	}
	return n
}

func (s *microVMStore) Invoke(ctx context.Context, inst Instance, export string, params []uint64) ([]uint64, error) {
	mod, err := s.module(inst)
	if err != nil {
		return nil, err
	}
	idx, ft, ok := mod.ExportedFunc(export)
	if !ok {
		return nil, fmt.Errorf("%w: function %q", ErrNoExport, export)
	}
	if n := slotCount(ft.Params); n != len(params) {
		return nil, fmt.Errorf("%q %s: %d parameter slots given, want %d", export, ft, len(params), n)
	}
	res, err := s.m.Call(ctx, uint32(inst), uint32(idx), params, slotCount(ft.Results))
	return res, backendErr(err)
}

func (s *microVMStore) GetGlobal(ctx context.Context, inst Instance, export string) ([]uint64, error) {
	mod, err := s.module(inst)
	if err != nil {
		return nil, err
	}
	idx, gt, ok := mod.ExportedGlobal(export)
	if !ok {
		return nil, fmt.Errorf("%w: global %q", ErrNoExport, export)
	}
	res, err := s.m.GlobalGet(ctx, uint32(inst), uint32(idx))
	if err != nil {
		return nil, backendErr(err)
	}
	if len(res) < gt.Type.Slots() {
		return nil, fmt.Errorf("global %q: %d slots for a %s", export, len(res), gt.Type)
	}
	return res[:gt.Type.Slots()], nil
}

func (s *microVMStore) Close() error { return s.m.Close() }
