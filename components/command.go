package components

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// ErrNotCommand: the component exports no wasi:cli/run function.
var ErrNotCommand = errors.New("components: not a wasi:cli/command (no wasi:cli/run export)")

// Command is a wasi:cli/command component loaded into a runtime: its core modules run
// linked in one sandbox ([host.Runtime.LoadLinked]), its WASI 0.2 imports served by
// [wasi.Preview2] with fresh state for every sandbox.
type Command struct {
	Link *Link
	mod  *host.Module
	run  string
}

// LoadCommand decodes a command component and loads it into rt (a micro-VM runtime).
func LoadCommand(ctx context.Context, rt *host.Runtime, b []byte, cfg wasi.Config) (*Command, error) {
	l, err := DecodeLink(b)
	if err != nil {
		return nil, err
	}
	run, ok := l.RunExport()
	if !ok {
		return nil, ErrNotCommand
	}
	spec := host.Linked{Main: run.Part, NewHost: func() (host.LinkedHost, error) { return newCommandHost(l, cfg) }}
	for i, p := range l.Parts {
		spec.Parts = append(spec.Parts, host.LinkedPart{Name: PartName(i), Wasm: p.Wasm})
	}
	mod, err := rt.LoadLinked(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Command{Link: l, mod: mod, run: run.Name}, nil
}

// Run runs the command once, on fresh state. A program that exits with a status (wasi:cli/exit,
// or run returning err, which is status 1) ends with an *api.ExitError; status 0 is nil.
func (c *Command) Run(ctx context.Context) error {
	return RunResult(c.mod.Call(ctx, c.run))
}

// Module is the command's module: Call of its run export (Link.RunExport) on fresh state.
func (c *Command) Module() *host.Module { return c.mod }

// RunResult is what a call of a command's run export (res, err) means: nil for status 0, an
// *api.ExitError for another status (run returning err is status 1), else the call's error.
func RunResult(res []uint64, err error) error {
	var exit *api.ExitError
	switch {
	case errors.As(err, &exit) && exit.Code == 0:
		return nil
	case err != nil:
		return err
	case len(res) != 1 || uint32(res[0]) > 1:
		return fmt.Errorf("%w: run returned %v, not a result", ErrMalformed, res)
	case res[0] == 1:
		return &api.ExitError{Code: 1}
	}
	return nil
}

// Close releases the command's sandboxes.
func (c *Command) Close(ctx context.Context) error { return c.mod.Close(ctx) }

// commandHost is one sandbox's WASI 0.2 state and the canonical built-ins bound to it.
type commandHost struct {
	p2    *wasi.Preview2
	cfg   wasi.Config
	funcs []api.HostFunction
}

func (h *commandHost) Functions() []api.HostFunction { return h.funcs }
func (h *commandHost) Reset() error                  { return h.p2.Reset(h.cfg) }
func (h *commandHost) Close() error                  { return h.p2.Close() }

func newCommandHost(l *Link, cfg wasi.Config) (*commandHost, error) {
	return newLinkedHost(l, cfg, nil)
}

// newLinkedHost binds every canonical built-in of l: WASI 0.2 functions to a fresh
// wasi.Preview2, the others to imports (implementations by World.Func key, as World.Bind takes).
func newLinkedHost(l *Link, cfg wasi.Config, imports map[string]any) (*commandHost, error) {
	p2, err := wasi.NewPreview2(cfg)
	if err != nil {
		return nil, err
	}
	h := &commandHost{p2: p2, cfg: cfg}
	var missing []string
	for i, c := range l.Canon {
		if c.Kind == CanonResourceBuiltin {
			hf, ok := l.World.ResourceBuiltin(c.Func)
			if !ok { // never imported: nothing calls it
				continue
			}
			hf.ModuleName, hf.Name = CanonModule, strconv.Itoa(i)
			h.funcs = append(h.funcs, hf)
			continue
		}
		f, err := l.World.Func(c.Func, false)
		if err != nil {
			_ = p2.Close()
			return nil, err
		}
		hf, ok, err := bindImport(l.World, f, p2, imports)
		if err != nil {
			_ = p2.Close()
			return nil, err
		}
		if !ok {
			missing = append(missing, c.Func)
			continue
		}
		hf.ModuleName, hf.Name = CanonModule, strconv.Itoa(i)
		hf.Fn = canonFunc(c, l.OneMemory, hf.Fn)
		h.funcs = append(h.funcs, hf)
	}
	if len(missing) > 0 {
		_ = p2.Close()
		if imports == nil {
			return nil, fmt.Errorf("%w: WASI 0.2 functions hlwasm does not implement: %v", ErrUnsupported, missing)
		}
		return nil, fmt.Errorf("%w: imports that are neither WASI 0.2 functions hlwasm implements nor given: %v", wit.ErrUnbound, missing)
	}
	return h, nil
}

// bindImport binds one imported WIT function: to WASI 0.2 (p2) if it is one hlwasm
// implements, else to the embedder's imports (keyed by Func.Key); ok is false when neither has it.
func bindImport(w *wit.World, f *wit.Func, p2 *wasi.Preview2, imports map[string]any) (hf api.HostFunction, ok bool, err error) {
	impl, ok := p2.Func(f.Key())
	wasiFunc := ok
	if !ok {
		impl, ok = imports[f.Key()]
	}
	if !ok {
		return api.HostFunction{}, false, nil
	}
	hf, err = w.HostFunction(f, impl)
	if err != nil {
		return api.HostFunction{}, false, fmt.Errorf("components: binding %s: %w", f.Key(), err)
	}
	hf.HonorsContext = wasiFunc // WASI's blocking I/O ends with the call's context
	return hf, true, nil
}

// canonFunc runs a lowered import with the memory and realloc its canonical options name,
// whichever instance called it (wit-component's shims call them through a table).
// With oneMemory (Link.OneMemory) the caller's memory is the options' memory.
func canonFunc(c Canon, oneMemory bool, fn api.GoFunction) api.GoFunction {
	return func(ctx context.Context, mem api.Memory, stack []uint64) error {
		cl, _ := api.CallerFromContext(ctx)
		pc, ok := cl.(host.PartCaller)
		if !ok {
			return fmt.Errorf("%w: %s needs a linked sandbox", ErrUnsupported, c.Func)
		}
		cc := &canonCaller{pc: pc, c: c, mem: mem}
		if c.Memory != nil && (!oneMemory || mem == nil) {
			var err error
			if mem, err = pc.PartMemory(ctx, c.Memory.Part); err != nil {
				return err
			}
			cc.mem = mem
		}
		return fn(api.WithCaller(ctx, cc), mem, stack)
	}
}

// canonCaller is the instance a lowered import sees: the canonical options' memory and realloc.
type canonCaller struct {
	pc  host.PartCaller
	c   Canon
	mem api.Memory // the options' memory as last read from the guest
}

func (cc *canonCaller) Memory() api.Memory { return cc.mem }

// Call calls the options' realloc. Each view of the memory costs a request to the guest, so
// the view is read again only when the allocation lies beyond it (the memory grew).
func (cc *canonCaller) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	if cc.c.Realloc == nil {
		return nil, fmt.Errorf("%w: %s has no realloc option (calling %s)", ErrMalformed, cc.c.Func, name)
	}
	res, err := cc.pc.CallPart(ctx, cc.c.Realloc.Part, cc.c.Realloc.Name, params...)
	if err != nil || len(res) != 1 || len(params) != 4 || cc.c.Memory == nil {
		return res, err
	}
	if cc.mem == nil || uint64(uint32(res[0]))+uint64(uint32(params[3])) > cc.mem.Size() {
		m, err := cc.pc.PartMemory(ctx, cc.c.Memory.Part)
		if err != nil {
			return nil, err
		}
		cc.mem = m
	}
	return res, nil
}
