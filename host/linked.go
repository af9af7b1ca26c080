package host

import (
	"context"
	"fmt"
	"slices"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// Linked is a set of core modules instantiated together in one sandbox (a component's core
// instances): each part is instantiated in order and registered under its Name, so that later
// parts import its functions, memory, tables and globals through the engine's ordinary import
// checks. Imports that name no earlier part are host functions from NewHost.
type Linked struct {
	Parts []LinkedPart
	// Main is the part whose function exports the Module and its sandboxes call.
	Main int
	// NewHost makes the host state of one sandbox (called for each sandbox, and once at load
	// to check the parts' imports); its functions must have the same names and signatures,
	// in the same order, every time.
	NewHost func() (LinkedHost, error)
}

// LinkedPart is one core module of a [Linked] set.
type LinkedPart struct {
	Name string
	Wasm []byte
}

// LinkedHost is the host side of one sandbox of a [Linked] set.
type LinkedHost interface {
	// Functions are the host functions the parts may import.
	Functions() []api.HostFunction
	// Reset returns the host state to its initial state (Sandbox.Reset, pooled calls).
	Reset() error
	// Close releases the host state when the sandbox closes.
	Close() error
}

// PartCaller is the api.Caller that host functions of a [Linked] set's sandboxes get: besides
// the calling instance, it reaches every part's memory and exports (a component's canonical
// options name the memory and realloc function a lowered import uses, whichever instance
// called it).
type PartCaller interface {
	api.Caller
	// PartMemory is a view of part i's memory as it is now, valid during the host call.
	PartMemory(ctx context.Context, part int) (api.Memory, error)
	// CallPart calls function export name of part i (a nested call).
	CallPart(ctx context.Context, part int, name string, params ...uint64) ([]uint64, error)
}

// linkedParts is the Module side of a Linked set.
type linkedParts struct {
	spec  Linked
	infos []*wasmbin.Module
	insts []uint32 // each part's instance in the store (the same in every sandbox)
	sigs  []api.HostFunction
}

// LoadLinked checks a set of modules and prepares sandboxes for it (see [Linked]); the module
// behaves as its Main part. Only EngineMicroVM runs linked sets.
func (r *Runtime) LoadLinked(ctx context.Context, l Linked) (*Module, error) {
	if r.cfg.Engine != EngineMicroVM {
		return nil, fmt.Errorf("%w: linked modules (components) run on the micro-VM engine only", ErrUnsupportedEngine)
	}
	if l.Main < 0 || l.Main >= len(l.Parts) || l.NewHost == nil {
		return nil, fmt.Errorf("%w: linked set with %d parts, main %d, NewHost set: %v", ErrArguments, len(l.Parts), l.Main, l.NewHost != nil)
	}
	lp := &linkedParts{spec: l}
	names := map[string]int{}
	for i, p := range l.Parts {
		if err := r.checkModuleSize(fmt.Sprintf("part %d", i), len(p.Wasm)); err != nil {
			return nil, err
		}
		info, err := wasmbin.Parse(p.Wasm)
		if err != nil {
			return nil, fmt.Errorf("%w: part %d: %w", ErrInvalidModule, i, err)
		}
		if err := r.checkMemory(fmt.Sprintf("part %d", i), info); err != nil {
			return nil, err
		}
		lp.infos = append(lp.infos, info)
		if _, dup := names[p.Name]; dup || p.Name == "" {
			return nil, fmt.Errorf("%w: part %d: name %q empty or used twice", ErrArguments, i, p.Name)
		}
		names[p.Name] = i
	}
	h, err := l.NewHost()
	if err != nil {
		return nil, err
	}
	lp.sigs = h.Functions()
	_ = h.Close()
	if err := lp.checkImports(names); err != nil {
		return nil, err
	}
	m, err := r.newModule(l.Parts[l.Main].Wasm, lp.infos[l.Main])
	if err != nil {
		return nil, err
	}
	m.linked = lp
	m.hostFuncs = lp.sigs
	parts := make([][]byte, len(l.Parts))
	for i, p := range l.Parts {
		parts[i] = p.Wasm
	}
	if m.sizes, err = r.sizesFor(parts, lp.infos, lp.sigs); err != nil {
		return nil, err
	}
	sb, err := m.newSandbox(ctx)
	if err != nil {
		return nil, err
	}
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

// checkImports refuses imports that name neither an earlier part nor a host function.
func (lp *linkedParts) checkImports(names map[string]int) error {
	host := map[[2]string]api.HostFunction{}
	for _, f := range lp.sigs {
		host[[2]string{f.ModuleName, f.Name}] = f
	}
	ie := &ImportError{}
	for i, info := range lp.infos {
		for _, im := range info.Imports {
			if j, ok := names[im.Module]; ok {
				if j >= i {
					ie.Imports = append(ie.Imports, fmt.Sprintf("part %d: %s: names a part instantiated later", i, describeImport(im)))
				}
				continue // the engine checks the export's kind and type
			}
			f, ok := host[[2]string{im.Module, im.Name}]
			switch {
			case !ok || im.Kind != wasmbin.KindFunc:
				ie.Imports = append(ie.Imports, fmt.Sprintf("part %d: %s: not allowed by the host", i, describeImport(im)))
			case !slices.Equal(f.ParamTypes, im.FuncType.Params) || !slices.Equal(f.ResultTypes, im.FuncType.Results):
				ie.Imports = append(ie.Imports, fmt.Sprintf("part %d: %s.%s: the module expects %s, the host provides %s", i,
					im.Module, im.Name, api.Signature(im.FuncType.Params, im.FuncType.Results), api.Signature(f.ParamTypes, f.ResultTypes)))
			}
		}
	}
	if len(ie.Imports) > 0 {
		return ie
	}
	return nil
}

// hostFor makes one sandbox's host state and its functions, wrapped to see a PartCaller.
func (lp *linkedParts) hostFor(m *Module) ([]api.HostFunction, LinkedHost, error) {
	h, err := lp.spec.NewHost()
	if err != nil {
		return nil, nil, err
	}
	fs := h.Functions()
	same := len(fs) == len(lp.sigs)
	for i := 0; same && i < len(fs); i++ {
		a, b := fs[i], lp.sigs[i]
		same = a.ModuleName == b.ModuleName && a.Name == b.Name && slices.Equal(a.ParamTypes, b.ParamTypes) && slices.Equal(a.ResultTypes, b.ResultTypes)
	}
	if !same {
		_ = h.Close()
		return nil, nil, fmt.Errorf("%w: NewHost returned other host functions than at load", ErrArguments)
	}
	out := make([]api.HostFunction, len(fs))
	for i, f := range fs {
		fn := f.Fn
		f.Fn = func(ctx context.Context, mem api.Memory, stack []uint64) error {
			c, _ := api.CallerFromContext(ctx)
			return fn(api.WithCaller(ctx, partCaller{Caller: c, m: m}), mem, stack)
		}
		out[i] = m.rt.observeHost(f)
	}
	return out, h, nil
}

// setInstances records the parts' instances, which every sandbox must reproduce.
func (lp *linkedParts) setInstances(insts []uint32) error {
	if lp.insts == nil {
		lp.insts = insts
		return nil
	}
	if !slices.Equal(lp.insts, insts) {
		return fmt.Errorf("%w: parts instantiated as %v, earlier %v", ErrGuestFault, insts, lp.insts)
	}
	return nil
}

// partCaller implements PartCaller over the engine's caller.
type partCaller struct {
	api.Caller
	m *Module
}

// storeCaller is what the micro-VM engine's caller offers beyond api.Caller.
type storeCaller interface {
	CallInstance(ctx context.Context, inst, exportIndex uint32, nresults int, params ...uint64) ([]uint64, error)
	MemoryOf(ctx context.Context, inst uint32) (api.Memory, error)
}

func (c partCaller) engine(part int) (storeCaller, uint32, error) {
	lp := c.m.linked
	sc, ok := c.Caller.(storeCaller)
	if !ok {
		return nil, 0, fmt.Errorf("%w: the engine offers no access to other instances", ErrUnsupportedEngine)
	}
	if part < 0 || part >= len(lp.insts) {
		return nil, 0, fmt.Errorf("%w: no part %d", ErrArguments, part)
	}
	return sc, lp.insts[part], nil
}

func (c partCaller) PartMemory(ctx context.Context, part int) (api.Memory, error) {
	sc, inst, err := c.engine(part)
	if err != nil {
		return nil, err
	}
	return sc.MemoryOf(ctx, inst)
}

func (c partCaller) CallPart(ctx context.Context, part int, name string, params ...uint64) ([]uint64, error) {
	sc, inst, err := c.engine(part)
	if err != nil {
		return nil, err
	}
	info := c.m.linked.infos[part]
	for i, e := range info.Exports {
		if e.Name != name || e.Kind != wasmbin.KindFunc {
			continue
		}
		ft, ok := info.FuncTypeOf(e.Index)
		if !ok {
			break
		}
		return sc.CallInstance(ctx, inst, uint32(i), slots(ft.Results), params...)
	}
	return nil, fmt.Errorf("%w: part %d has no function export %q", ErrNoExport, part, name)
}
