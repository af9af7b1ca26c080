package host

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/wasi"
)

// LogModule and LogName name the one host function every runtime allows by default:
// hlwasm.log(ptr i32, len i32) writes that byte range of the caller's memory to Config.Log.
const (
	LogModule = "hlwasm"
	LogName   = "log"
)

// maxLogBytes caps one log call; longer ranges are refused (the call fails).
const maxLogBytes = 1 << 20

func logFunction(w io.Writer) api.HostFunction {
	return api.HostFunction{
		ModuleName: LogModule, Name: LogName,
		ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32},
		Fn: func(ctx context.Context, mem api.Memory, stack []uint64) error {
			ptr, n := uint32(stack[0]), uint32(stack[1])
			if mem == nil {
				return fmt.Errorf("hlwasm.log: the caller has no memory")
			}
			if n > maxLogBytes {
				return fmt.Errorf("hlwasm.log: %d bytes exceeds the %d-byte limit", n, maxLogBytes)
			}
			b, ok := mem.Read(ptr, n)
			if !ok {
				return fmt.Errorf("hlwasm.log: range [%d, +%d) is outside memory (%d bytes)", ptr, n, mem.Size())
			}
			if w != nil {
				_, err := w.Write(b)
				return err
			}
			return nil
		},
	}
}

// allowList is what modules of a runtime may import.
type allowList map[[2]string]api.HostFunction

// CheckImportPattern checks one Config.AllowImports entry: "module.name" or "module.*"
// (ErrArguments otherwise).
func CheckImportPattern(p string) error {
	if mod, name, ok := strings.Cut(p, "."); !ok || mod == "" || name == "" || strings.Contains(name, "*") && name != "*" {
		return fmt.Errorf("%w: import pattern %q: want \"module.name\" or \"module.*\"", ErrArguments, p)
	}
	return nil
}

// importAllowed says whether Config.AllowImports (patterns; none: no narrowing) lets a module
// import module.name.
func importAllowed(patterns []string, module, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == module+"."+name || p == module+".*" {
			return true
		}
	}
	return false
}

func (r *Runtime) allowed() allowList {
	a := allowList{}
	if !r.cfg.NoDefaultLog {
		a[[2]string{LogModule, LogName}] = logFunction(r.cfg.Log)
	}
	if r.cfg.WASI != nil {
		// Signatures only: each sandbox binds its own WASI instance (sandboxFuncs).
		for _, f := range wasi.Signatures() {
			a[[2]string{f.ModuleName, f.Name}] = f
		}
	}
	for _, f := range r.cfg.HostFunctions {
		a[[2]string{f.ModuleName, f.Name}] = f
	}
	return a
}

// wasiModule is the module name of WASI preview1 imports.
const wasiModule = "wasi_snapshot_preview1"

// importsWASI says whether the module links WASI functions (which are bound per sandbox).
func (m *Module) importsWASI() bool {
	return m.rt.cfg.WASI != nil && slices.ContainsFunc(m.hostFuncs, func(f api.HostFunction) bool { return f.ModuleName == wasiModule })
}

// sandboxFuncs returns the host functions one sandbox links: the module's imports, with the
// WASI ones bound to a WASI instance of the sandbox's own (nil if the module imports no WASI).
func (m *Module) sandboxFuncs() ([]api.HostFunction, *wasi.Instance, error) {
	if !m.importsWASI() {
		return m.hostFuncs, nil, nil
	}
	wi, err := wasi.NewInstance(*m.rt.cfg.WASI)
	if err != nil {
		return nil, nil, err
	}
	wi.EnableBuffering() // Sandbox.call flushes when each call ends; newSandbox after _initialize
	own := map[string]api.HostFunction{}
	for _, f := range wi.Functions() {
		own[f.Name] = f
	}
	funcs := slices.Clone(m.hostFuncs)
	for i, f := range funcs {
		if f.ModuleName == wasiModule {
			funcs[i] = m.rt.observeHost(own[f.Name])
		} else if fn := f.Fn; fn != nil {
			// The host's own functions (hlwasm.log included) may write where the guest's
			// stdout goes: batched output is written first, so the order is the guest's.
			funcs[i].Fn = func(ctx context.Context, mem api.Memory, stack []uint64) error {
				wi.Sync(ctx)
				return fn(ctx, mem, stack)
			}
		}
	}
	return funcs, wi, nil
}

// link resolves a module's imports against the allow-list, in import order. Every import that
// is missing, of the wrong kind or of the wrong signature is named in one ImportError.
func (a allowList) link(info *wasmbin.Module, patterns []string) ([]api.HostFunction, error) {
	var funcs []api.HostFunction
	ie := &ImportError{}
	for _, im := range info.Imports {
		name := im.Module + "." + im.Name
		if im.Kind != wasmbin.KindFunc {
			ie.Imports = append(ie.Imports, describeImport(im)+": only functions can be imported")
			continue
		}
		f, ok := a[[2]string{im.Module, im.Name}]
		want := api.Signature(im.FuncType.Params, im.FuncType.Results)
		switch {
		case !ok:
			ie.Imports = append(ie.Imports, fmt.Sprintf("%s %s: not allowed by the host", name, want))
		case !importAllowed(patterns, im.Module, im.Name):
			ie.Imports = append(ie.Imports, fmt.Sprintf("%s %s: provided, but not in Config.AllowImports", name, want))
		case !slices.Equal(f.ParamTypes, im.FuncType.Params) || !slices.Equal(f.ResultTypes, im.FuncType.Results):
			ie.Imports = append(ie.Imports, fmt.Sprintf("%s: the module expects %s, the host provides %s",
				name, want, api.Signature(f.ParamTypes, f.ResultTypes)))
		default:
			if !slices.ContainsFunc(funcs, func(g api.HostFunction) bool { return g.ModuleName == f.ModuleName && g.Name == f.Name }) {
				funcs = append(funcs, f)
			}
		}
	}
	if len(ie.Imports) > 0 {
		return nil, ie
	}
	return funcs, nil
}

// guestIO connects a sandbox's WASI instance to its machine's guest-side I/O (small fd_write
// and fd_read calls answered inside the guest, internal/machine.GuestIO): nil without WASI, or
// with HLWASM_GUEST_IO=off (a diagnostic: host-side buffering only, as the wazero engine has).
func guestIO(funcs []api.HostFunction, wi *wasi.Instance) *machine.GuestIO {
	if wi == nil || os.Getenv("HLWASM_GUEST_IO") == "off" {
		return nil
	}
	id := func(name string) uint32 {
		for i, f := range funcs {
			if f.ModuleName == wasiModule && f.Name == name {
				return uint32(i)
			}
		}
		return math.MaxUint32 // no host function has this id
	}
	return &machine.GuestIO{WriteFunc: id("fd_write"), ReadFunc: id("fd_read"), Drain: wi.GuestDrain, Publish: wi.GuestPublish}
}
