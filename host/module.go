package host

import (
	"context"
	"fmt"
	"sync"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
	"github.com/hlwasm/hlwasm/wasi"
)

// FunctionDefinition describes an exported or imported function, known before any call.
type FunctionDefinition struct {
	// ModuleName is the module an imported function comes from ("" for an export).
	ModuleName  string
	Name        string
	ParamTypes  []api.ValueType
	ResultTypes []api.ValueType
	exportIndex uint32
	isImport    bool
}

// Import is the function's import (as wazero's api.FunctionDefinition.Import): module and
// name, and whether it is one.
func (f FunctionDefinition) Import() (moduleName, name string, isImport bool) {
	if !f.isImport {
		return "", "", false
	}
	return f.ModuleName, f.Name, true
}

// Module is a loaded, validated module. Sandboxes are created from it.
type Module struct {
	rt    *Runtime
	wasm  []byte
	info  *wasmbin.Module
	funcs map[string]FunctionDefinition

	pool *pool // sandboxes for Call (fresh state per call)

	hostFuncs []api.HostFunction // the allowed host functions the module imports

	linked *linkedParts // LoadLinked: the parts instantiated in each sandbox

	sizes sizes // the guest layout of its sandboxes (sizesFor)

	wz *wazeroengine.Module // EngineWazero: the compiled module

	// snapFile is the snapshot every sandbox after the first starts from: the file of
	// LoadSnapshot, or the first sandbox's state kept in memory, so that sandboxes share its
	// pages instead of each booting, loading and keeping a copy of its own.
	snapFile *machine.SnapshotFile
	snapInst uint32

	mu     sync.Mutex
	spare  *Sandbox // the sandbox that validated the module, handed out by the first NewSandbox
	spares *spares  // Config.SpareSandboxes made ahead of time
	closed bool
}

// LoadModule checks a module and prepares sandboxes for it. The host reads the module's
// signatures and imports itself (an import the host does not allow is refused here, naming
// each one, before anything reaches a VM); parsing, validation and instantiation happen
// inside a micro-VM, which is kept for the first sandbox.
func (r *Runtime) LoadModule(ctx context.Context, wasm []byte) (*Module, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	ctx, cancel := bounded(ctx, r.cfg.LoadTimeout)
	defer cancel()
	if err := r.checkModuleSize("module", len(wasm)); err != nil {
		return nil, err
	}
	info, err := wasmbin.Parse(wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	if err := r.checkMemory("module", info); err != nil {
		return nil, err
	}
	funcs, err := r.allowed().link(info, r.cfg.AllowImports)
	if err != nil {
		return nil, err
	}
	m, err := r.newModule(wasm, info)
	if err != nil {
		return nil, err
	}
	m.hostFuncs = r.observeHosts(funcs)
	funcs = m.hostFuncs
	if m.sizes, err = r.sizesFor([][]byte{m.wasm}, []*wasmbin.Module{info}, m.hostFuncs); err != nil {
		return nil, err
	}
	// A module that imports WASI gets a wazero module per sandbox (WASI state is per sandbox;
	// the compiled code is shared through the cache): the allow-list has only its signatures.
	if r.cfg.Engine == EngineWazero && info.GCTypes {
		return nil, fmt.Errorf("%w: %w: garbage collection types (struct, array, rec and sub types) with the wazero engine",
			ErrInvalidModule, ErrUnsupportedFeature)
	}
	if r.cfg.Engine == EngineWazero && !m.importsWASI() {
		m.wz, err = wazeroengine.Load(ctx, m.wasm, funcs, m.wazeroConfig())
		if err != nil {
			return nil, translateWazeroLoad(err)
		}
	}
	sb, err := m.newSandbox(ctx)
	if err != nil {
		return nil, err
	}
	// Dirty-log resets need the log started from each machine's own snapshot: those machines
	// keep booting on their own.
	if v, ok := sb.in.(*vmInstance); ok && r.cfg.ResetMode == ResetCompare && !r.cfg.NoSnapshot {
		if m.snapFile, err = v.takeMemFile(); err != nil {
			sb.Close(ctx)
			return nil, err
		}
		m.snapInst = v.inst
	}
	m.spare = sb
	return m, nil
}

// checkModuleSize refuses a module (or part) larger than Config.MaxModuleBytes.
func (r *Runtime) checkModuleSize(what string, n int) error {
	if uint64(n) > r.cfg.MaxModuleBytes {
		return fmt.Errorf("%w: %s is %s, over the module size limit of %s (Config.MaxModuleBytes; hlwasm --max-module-size; at most %s)",
			ErrLimit, what, sizeString(uint64(n)), sizeString(r.cfg.MaxModuleBytes), sizeString(DefaultMaxModuleBytes))
	}
	return nil
}

// checkMemory refuses a module whose linear memory starts larger than Config.MaxMemoryPages
// (the user's cap, named as such: the engine would only call it its own limit).
func (r *Runtime) checkMemory(what string, info *wasmbin.Module) error {
	for _, mem := range info.Memories {
		if uint64(mem.Min) > uint64(r.maxPages()) {
			return fmt.Errorf("%w: %s's memory starts at %d pages (%s), over the linear memory limit of %d pages (%s; Config.MaxMemoryPages, hlwasm --max-memory)",
				ErrLimit, what, mem.Min, sizeString(uint64(mem.Min)*65536), r.maxPages(), sizeString(uint64(r.maxPages())*65536))
		}
	}
	return nil
}

func describeImport(im wasmbin.Import) string {
	var t string
	switch im.Kind {
	case wasmbin.KindFunc:
		t = "func " + im.FuncType.String()
	case wasmbin.KindTable:
		t = "table"
	case wasmbin.KindMemory:
		t = "memory"
	case wasmbin.KindGlobal:
		t = "global"
	}
	return fmt.Sprintf("%s.%s (%s)", im.Module, im.Name, t)
}

// ExportedFunctions lists the module's function exports by name.
func (m *Module) ExportedFunctions() map[string]FunctionDefinition {
	out := make(map[string]FunctionDefinition, len(m.funcs))
	for k, v := range m.funcs {
		out[k] = v
	}
	return out
}

// ImportedFunctions lists the module's function imports in import order (as wazero's
// CompiledModule.ImportedFunctions): module, name and signature of each, whichever engine
// runs it. For a linked set, its main part's.
func (m *Module) ImportedFunctions() []FunctionDefinition {
	var out []FunctionDefinition
	for _, im := range m.info.Imports {
		if im.Kind != wasmbin.KindFunc {
			continue
		}
		out = append(out, FunctionDefinition{ModuleName: im.Module, Name: im.Name, isImport: true,
			ParamTypes:  append([]api.ValueType(nil), im.FuncType.Params...),
			ResultTypes: append([]api.ValueType(nil), im.FuncType.Results...)})
	}
	return out
}

// ExportedFunction returns one export's definition.
func (m *Module) ExportedFunction(name string) (FunctionDefinition, bool) {
	f, ok := m.funcs[name]
	return f, ok
}

// NewSandbox creates a sandbox: a micro-VM with a fresh instance of the module.
func (m *Module) NewSandbox(ctx context.Context) (*Sandbox, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if sb := m.spare; sb != nil {
		m.spare = nil
		m.mu.Unlock()
		m.spares.fill() // the next NewSandbox finds one made meanwhile
		return sb, nil
	}
	m.mu.Unlock()
	if sb := m.spares.take(); sb != nil {
		return sb, nil
	}
	return m.newSandbox(ctx)
}

func (m *Module) newSandbox(ctx context.Context) (*Sandbox, error) {
	ctx, cancel := bounded(ctx, m.rt.cfg.LoadTimeout)
	defer cancel()
	var funcs []api.HostFunction
	var wi *wasi.Instance
	var lh LinkedHost
	var err error
	if m.linked != nil {
		funcs, lh, err = m.linked.hostFor(m)
	} else {
		funcs, wi, err = m.sandboxFuncs()
	}
	if err != nil {
		return nil, err
	}
	in, err := m.newInstance(ctx, funcs, wi)
	if wi != nil {
		if ferr := wi.Flush(ctx); err == nil && ferr != nil { // what _initialize wrote
			in.close()
			err = ferr
		}
	}
	if err != nil {
		if wi != nil {
			wi.Close()
		}
		if lh != nil {
			_ = lh.Close()
		}
		return nil, err
	}
	if o := m.rt.cfg.Observer; o != nil {
		o.SandboxCreated(m)
	}
	return &Sandbox{mod: m, in: in, wasi: wi, linked: lh}, nil
}

// newInstance makes the engine half of a sandbox: instantiated, `_initialize` run (reactor
// modules), and for micro-VMs snapshotted in that state.
func (m *Module) newInstance(ctx context.Context, funcs []api.HostFunction, wi *wasi.Instance) (instance, error) {
	ownWASI := wi != nil
	init, hasInit := m.funcs["_initialize"]
	if m.rt.cfg.Engine == EngineWazero {
		wz, owns := m.wz, false
		if ownWASI { // WASI state is per sandbox: a wazero module of its own, compiled code shared
			var err error
			wz, err = wazeroengine.Load(ctx, m.wasm, funcs, m.wazeroConfig())
			if err != nil {
				return nil, translateWazeroLoad(err)
			}
			owns = true
		}
		inst, err := wz.Instantiate(ctx)
		if err != nil {
			if owns {
				wz.Close()
			}
			return nil, translateWazeroLoad(err)
		}
		w := &wazeroInstance{mod: wz, inst: inst, ownsMod: owns}
		if hasInit {
			w.init = &init
			if _, err := w.call(ctx, init, nil); err != nil {
				w.close()
				return nil, fmt.Errorf("_initialize: %w", err)
			}
		}
		return w, nil
	}
	if m.snapFile != nil {
		mach, snap, err := machine.NewFromSnapshot(ctx, m.machineConfig(), m.snapFile)
		if err != nil {
			return nil, err
		}
		mach.BindHostFuncs(funcs)
		mach.SetGuestIO(guestIO(funcs, wi))
		return &vmInstance{mach: mach, inst: m.snapInst, snap: snap}, nil
	}
	mach, err := machine.New(ctx, m.machineConfig())
	if err != nil {
		return nil, err
	}
	fail := func(err error) (instance, error) {
		mach.Close()
		return nil, err
	}
	mach.SetGuestIO(guestIO(funcs, wi))
	if len(funcs) > 0 {
		if err := mach.DefineHost(ctx, funcs); err != nil {
			return fail(err)
		}
	}
	var inst uint32
	if m.linked != nil {
		inst, err = m.loadLinked(ctx, mach)
	} else {
		inst, err = mach.Load(ctx, m.wasm)
	}
	if err != nil {
		return fail(translate(err))
	}
	v := &vmInstance{mach: mach, inst: inst}
	if hasInit {
		if _, err := v.call(ctx, init, nil); err != nil {
			return fail(fmt.Errorf("_initialize: %w", err))
		}
	}
	switch {
	case m.rt.cfg.NoSnapshot:
	case m.rt.cfg.ResetMode == ResetCompare:
		// The module's first sandbox (the others start from its file): the snapshot goes
		// straight into the file later sandboxes share, with no copy of its own.
		v.snap, v.memFile, err = mach.SnapshotToMemory(ctx)
	default:
		v.snap, err = mach.Snapshot(ctx, m.rt.cfg.ResetMode)
	}
	if err != nil {
		return fail(err)
	}
	return v, nil
}

func (m *Module) wazeroConfig() wazeroengine.Config {
	return wazeroengine.Config{MaxMemoryPages: m.rt.cfg.MaxMemoryPages, Compiler: true, Cache: m.rt.wzCache}
}

// Close releases the module's pooled and spare sandboxes. Sandboxes made by NewSandbox keep
// working until closed.
func (m *Module) Close(ctx context.Context) error {
	_ = ctx
	m.pool.close()
	m.spares.close() // before the snapshot file they start from is closed
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.snapFile != nil {
		defer m.snapFile.Close()
	}
	if m.wz != nil {
		defer m.wz.Close()
	}
	if m.spare != nil {
		err := m.spare.Close(ctx)
		m.spare = nil
		return err
	}
	return nil
}

// loadLinked instantiates and registers a linked set's parts in order; it returns Main's
// instance.
func (m *Module) loadLinked(ctx context.Context, mach *machine.Machine) (uint32, error) {
	lp := m.linked
	insts := make([]uint32, len(lp.spec.Parts))
	for i, p := range lp.spec.Parts {
		inst, err := mach.Load(ctx, p.Wasm)
		if err != nil {
			return 0, fmt.Errorf("part %d: %w", i, err)
		}
		if err := mach.Register(ctx, inst, p.Name); err != nil {
			return 0, fmt.Errorf("part %d: %w", i, err)
		}
		insts[i] = inst
	}
	if err := lp.setInstances(insts); err != nil {
		return 0, err
	}
	return insts[lp.spec.Main], nil
}

// newModule builds a Module from checked bytes and their signatures.
func (r *Runtime) newModule(wasm []byte, info *wasmbin.Module) (*Module, error) {
	m := &Module{rt: r, wasm: append([]byte(nil), wasm...), info: info, funcs: map[string]FunctionDefinition{}}
	m.pool = newPool(m, r.cfg.PoolSize)
	m.spares = newSpares(m, r.cfg.SpareSandboxes)
	for i, e := range info.Exports {
		if e.Kind != wasmbin.KindFunc {
			continue
		}
		ft, ok := info.FuncTypeOf(e.Index)
		if !ok {
			return nil, fmt.Errorf("%w: export %q names function %d, which does not exist", ErrInvalidModule, e.Name, e.Index)
		}
		m.funcs[e.Name] = FunctionDefinition{Name: e.Name, ParamTypes: ft.Params, ResultTypes: ft.Results, exportIndex: uint32(i)}
	}
	return m, nil
}

// machineConfig is the runtime's machine configuration with this module's exports, which host
// functions may call back into.
func (m *Module) machineConfig() machine.Config {
	c := m.rt.machineConfig()
	c.Exports = m.exportResolver
	c.XferBytes, c.CodeBytes, c.HeapBytes = m.sizes.xfer, m.sizes.code, m.sizes.heap
	return c
}

// exportResolver lets host functions call the module's exports (api.Caller.Call).
func (m *Module) exportResolver(name string) (uint32, int, bool) {
	f, ok := m.funcs[name]
	if !ok {
		return 0, 0, false
	}
	return f.exportIndex, slots(f.ResultTypes), true
}
