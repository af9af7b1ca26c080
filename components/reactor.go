package components

import (
	"context"
	"errors"
	"fmt"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// Reactor is a component of several core modules (what `wasm-tools component new --adapt`
// with the preview1 reactor adapter, or cargo-component, make of a library) loaded into a
// runtime for calls: its parts run linked in one sandbox ([host.Runtime.LoadLinked]), its WASI
// 0.2 imports served by [wasi.Preview2] with fresh state for every sandbox, its other imports
// by the host's implementations, and its exports called with WIT values through World
// ([wit.World.Call] with a Sandbox of Module as the instance).
type Reactor struct {
	Link *Link
	// Module is the part whose core exports the component lifts; its sandboxes are the
	// instances World.Call takes.
	Module *host.Module
}

// World is the component's world.
func (r *Reactor) World() *wit.World { return r.Link.World }

// LoadReactor decodes a component with several core modules and loads it into rt (a micro-VM
// runtime). imports implements the world's imports that are not WASI 0.2 (keys and values as
// [wit.World.Bind] takes; wit.World.TraceImports makes stand-ins). Every export must be lifted
// from one core module, under the name the canonical ABI gives it.
func LoadReactor(ctx context.Context, rt *host.Runtime, b []byte, cfg wasi.Config, imports map[string]any) (*Reactor, error) {
	l, err := DecodeLink(b)
	if err != nil {
		return nil, err
	}
	main := -1
	for _, c := range l.Lifts {
		switch {
		case main < 0:
			main = c.Part
		case c.Part != main:
			return nil, fmt.Errorf("%w: exports lifted from core modules %d and %d", ErrUnsupported, main, c.Part)
		}
	}
	if main < 0 {
		return nil, fmt.Errorf("%w: the component exports no function", ErrUnsupported)
	}
	lifted := map[string]bool{}
	for _, c := range l.Lifts {
		lifted[c.Name] = true
	}
	for _, f := range l.World.Exports {
		if !lifted[f.CoreName] {
			return nil, fmt.Errorf("%w: export %s is not lifted from core export %q", ErrUnsupported, f.Key(), f.CoreName)
		}
	}
	if imports == nil {
		imports = map[string]any{}
	}
	spec := host.Linked{Main: main, NewHost: func() (host.LinkedHost, error) { return newLinkedHost(l, cfg, imports) }}
	for i, p := range l.Parts {
		spec.Parts = append(spec.Parts, host.LinkedPart{Name: PartName(i), Wasm: p.Wasm})
	}
	mod, err := rt.LoadLinked(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Reactor{Link: l, Module: mod}, nil
}

// LoadComponent loads any component for calls: one of several core modules as LoadReactor
// does, and a single-module component (its core module with the world's imports bound: WASI
// 0.2 ones to a fresh wasi.Preview2 per sandbox, the others to imports, and the canonical
// built-ins of the resources it exports) the same way, so that both are called alike.
func LoadComponent(ctx context.Context, rt *host.Runtime, b []byte, cfg wasi.Config, imports map[string]any) (*Reactor, error) {
	c, err := Decode(b, "")
	if errors.Is(err, ErrUnsupported) {
		if _, lerr := DecodeLink(b); lerr == nil {
			return LoadReactor(ctx, rt, b, cfg, imports)
		}
	}
	if err != nil {
		return nil, err
	}
	if imports == nil {
		imports = map[string]any{}
	}
	newHost := func() (host.LinkedHost, error) { return newWorldHost(c.World, cfg, imports) }
	mod, err := rt.LoadLinked(ctx, host.Linked{Parts: []host.LinkedPart{{Name: PartName(0), Wasm: c.Core}}, NewHost: newHost})
	if err != nil {
		return nil, err
	}
	return &Reactor{Link: &Link{World: c.World, Parts: []Part{{Wasm: c.Core}}}, Module: mod}, nil
}

// newWorldHost binds a single-module component's imports by their core names: WASI 0.2 ones
// to a fresh wasi.Preview2, the others to imports; and its exported resources' built-ins.
func newWorldHost(w *wit.World, cfg wasi.Config, imports map[string]any) (*commandHost, error) {
	p2, err := wasi.NewPreview2(cfg)
	if err != nil {
		return nil, err
	}
	h := &commandHost{p2: p2, cfg: cfg}
	var missing []string
	for _, f := range w.Imports {
		hf, ok, err := bindImport(w, f, p2, imports)
		if err != nil {
			_ = p2.Close()
			return nil, err
		}
		if !ok {
			missing = append(missing, f.Key())
			continue
		}
		h.funcs = append(h.funcs, hf)
	}
	if len(missing) > 0 {
		_ = p2.Close()
		return nil, fmt.Errorf("%w: imports that are neither WASI 0.2 functions hlwasm implements nor given: %v", wit.ErrUnbound, missing)
	}
	for _, r := range w.Resources {
		for _, op := range []string{"[resource-new]", "[resource-rep]", "[resource-drop]"} {
			if hf, ok := w.ResourceBuiltin(r.Module + "#" + op + r.Name); ok {
				h.funcs = append(h.funcs, hf)
			}
		}
	}
	return h, nil
}

// Close releases the component's sandboxes.
func (r *Reactor) Close(ctx context.Context) error { return r.Module.Close(ctx) }
