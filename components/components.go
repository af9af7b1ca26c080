// Package components loads WebAssembly components whose core module follows the Canonical
// ABI conventions of hlwasm's wit package: it extracts the main core module and the WIT
// world (decoded by wasm-tools' own `component wit` logic, run under wazero by
// go.bytecodealliance.org/wit), so the host can instantiate the core module itself and bind
// the world's imports and exports with package wit.
//
// Only what wit-component (`wasm-tools component new`, `jco new`) produces from one core
// module is accepted: that module, plus the wit-component shim and fixup modules that it
// adds for indirect lowering (the host does not need them), and nested components that only
// re-export functions, with UTF-8 strings. Imported resources work (their handles are plain
// numbers to the host), and so do exported ones (the guest's resource.new/rep/drop are bound
// by wit.World.Bind, see wit.Resource). Everything else — core modules in nested components,
// start functions, component values, async and other canonical built-ins,
// non-UTF-8 string encodings, WASI adapter modules, several memories — is refused at load
// with an error naming the feature ([ErrUnsupported]).
//
// Components with several core modules that import each other (a WASI adapter's shape) are
// decoded by [DecodeLink] into parts instantiated together in one store, and wasi:cli/command
// components run with [LoadCommand].
package components

import (
	"bytes"
	"errors"
	"fmt"

	bwit "go.bytecodealliance.org/wit"

	"github.com/hlwasm/hlwasm/wit"
)

var (
	// ErrMalformed: the binary cannot be decoded.
	ErrMalformed = errors.New("components: malformed binary")
	// ErrUnsupported: the component uses a feature hlwasm does not support.
	ErrUnsupported = errors.New("components: unsupported component feature")
	// ErrNoWIT: a core module carries no component-type custom section.
	ErrNoWIT = errors.New("components: no WIT in the module")
)

// Kind of a WebAssembly binary.
type Kind int

const (
	// KindUnknown is not a WebAssembly binary (or an unknown version).
	KindUnknown Kind = iota
	// KindModule is a core module.
	KindModule
	// KindComponent is a component.
	KindComponent
)

func (k Kind) String() string {
	return [...]string{"unknown", "core module", "component"}[k]
}

// Detect tells a core module from a component by its preamble.
func Detect(b []byte) Kind {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return KindUnknown
	}
	switch {
	case bytes.Equal(b[4:8], []byte{1, 0, 0, 0}):
		return KindModule
	case b[6] == 1 && b[7] == 0: // version 0x0d 0x00, layer 1
		return KindComponent
	}
	return KindUnknown
}

// Component is a decoded component (or core module with embedded WIT).
type Component struct {
	// Core is the main core module: instantiate it with World's imports bound.
	Core []byte
	// Modules are all core modules of the component, in order (Core among them).
	Modules [][]byte
	// World is the component's world (its imports and exports).
	World *wit.World
	// Imports are the main module's core imports (module, name), for checking them
	// against World.
	Imports [][2]string
	// Exports are the main module's core export names.
	Exports []string
}

// HasExport reports whether the main module exports name (wit.Options.HasExport).
func (c *Component) HasExport(name string) bool {
	for _, e := range c.Exports {
		if e == name {
			return true
		}
	}
	return false
}

// Decode decodes a component, or a core module carrying its WIT in component-type custom
// sections (as `wasm-tools component embed` / `jco embed` leave it). world picks the world
// for an embedded core module ("" for the only one); a component has exactly one.
func Decode(b []byte, world string) (*Component, error) {
	switch Detect(b) {
	case KindModule:
		return decodeModule(b, world)
	case KindComponent:
		return decodeComponent(b)
	}
	return nil, fmt.Errorf("%w: not a WebAssembly module or component", ErrMalformed)
}

func decodeModule(b []byte, world string) (*Component, error) {
	ci, typ, err := embeddedWIT(b)
	if err != nil {
		return nil, err
	}
	w, err := decodeWorld(typ, world)
	if err != nil {
		return nil, err
	}
	c := &Component{Core: b, Modules: [][]byte{b}, World: w}
	c.setCore(ci)
	return c, nil
}

// embeddedWIT reads a core module and finds its one component-type custom section. Split from
// decodeModule (and splitComponent from decodeComponent) so that the host's own parsing can
// be fuzzed without running wasm-tools for every input.
func embeddedWIT(b []byte) (*coreInfo, []byte, error) {
	ci, err := parseCore(b)
	if err != nil {
		return nil, nil, err
	}
	var types [][]byte
	for name, payloads := range ci.custom {
		if name == "component-type" || (len(name) > 15 && name[:15] == "component-type:") {
			types = append(types, payloads...)
		}
	}
	switch len(types) {
	case 0:
		return nil, nil, ErrNoWIT
	case 1:
	default:
		return nil, nil, fmt.Errorf("%w: %d component-type sections (merge them with wasm-tools component embed)", ErrUnsupported, len(types))
	}
	return ci, types[0], nil
}

func (c *Component) setCore(ci *coreInfo) {
	c.Imports = ci.imports
	for name := range ci.exports {
		c.Exports = append(c.Exports, name)
	}
	c.World.Options.HasExport = c.HasExport
}

func decodeWorld(b []byte, world string) (*wit.World, error) {
	res, err := bwit.DecodeWIT(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("components: decoding the WIT: %w", err)
	}
	return wit.FromResolve(res, world)
}

// Component section ids.
const (
	secCustom       = 0
	secCoreModule   = 1
	secCoreInstance = 2
	secCoreType     = 3
	secComponent    = 4
	secInstance     = 5
	secAlias        = 6
	secType         = 7
	secCanon        = 8
	secStart        = 9
	secImport       = 10
	secExport       = 11
	secValue        = 12
)

func decodeComponent(b []byte) (*Component, error) {
	c, main, err := splitComponent(b)
	if err != nil {
		return nil, err
	}
	w, err := decodeWorld(b, "")
	if err != nil {
		return nil, err
	}
	c.World = w
	c.setCore(main)
	return c, nil
}

// splitComponent checks a component's structure and finds its main core module.
func splitComponent(b []byte) (*Component, *coreInfo, error) {
	c := &Component{}
	if err := c.walk(b, 0); err != nil {
		return nil, nil, err
	}
	var main *coreInfo
	for i, m := range c.Modules {
		if Detect(m) != KindModule {
			return nil, nil, fmt.Errorf("%w: core module %d is not a core module", ErrMalformed, i)
		}
		ci, err := parseCore(m)
		if err != nil {
			return nil, nil, fmt.Errorf("core module %d: %w", i, err)
		}
		switch {
		case ci.importsMemory:
			return nil, nil, fmt.Errorf("%w: core module %d imports a memory (a WASI adapter module?); build the component from the core module alone", ErrUnsupported, i)
		case ci.definesMemory:
			if main != nil {
				return nil, nil, fmt.Errorf("%w: several core modules with a memory", ErrUnsupported)
			}
			main, c.Core = ci, m
		}
	}
	if main == nil {
		return nil, nil, fmt.Errorf("%w: no core module defines a memory", ErrUnsupported)
	}
	return c, main, nil
}

// walk checks the sections of a component and collects its core modules. wit-component
// wraps each exported interface in a nested component that only re-exports functions with
// their WIT types; nested components may hold no core modules.
func (c *Component) walk(b []byte, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%w: components nested more than 8 deep", ErrUnsupported)
	}
	if depth > 0 && Detect(b) != KindComponent {
		return fmt.Errorf("%w: nested component without a component preamble", ErrMalformed)
	}
	secs, err := sections(b)
	if err != nil {
		return err
	}
	for _, s := range secs {
		switch s.id {
		case secCoreModule:
			if depth > 0 {
				return fmt.Errorf("%w: core modules in nested components", ErrUnsupported)
			}
			c.Modules = append(c.Modules, s.payload)
		case secComponent:
			if err := c.walk(s.payload, depth+1); err != nil {
				return err
			}
		case secStart:
			return fmt.Errorf("%w: component start function", ErrUnsupported)
		case secValue:
			return fmt.Errorf("%w: component values", ErrUnsupported)
		case secCanon:
			if err := checkCanon(s); err != nil {
				return err
			}
		case secCustom, secCoreInstance, secCoreType, secInstance, secAlias, secType, secImport, secExport:
		default:
			return fmt.Errorf("%w: section id %d at %#x", ErrUnsupported, s.id, s.off)
		}
	}
	return nil
}

// checkCanon refuses canonical built-ins and options other than lift and lower with UTF-8.
func checkCanon(s section) error {
	r := &reader{b: s.payload, off: s.off}
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x00, 0x01: // lift, lower
			if sub, err := r.byte(); err != nil {
				return err
			} else if sub != 0 {
				return r.errf("canon %#x sub-opcode %#x", op, sub)
			}
			if _, err := r.u32(); err != nil {
				return err
			}
			if err := checkOpts(r); err != nil {
				return err
			}
			if op == 0x00 {
				if _, err := r.u32(); err != nil {
					return err
				}
			}
		case 0x02, 0x03, 0x04: // resource.new, resource.drop, resource.rep rt: the host
			// binds the [resource-drop] import of an imported resource like any other, and
			// the built-ins of exported resources (wit.World.Resources) with World.Bind
			if _, err := r.u32(); err != nil {
				return err
			}
		case 0x07:
			return fmt.Errorf("%w: async resource.drop", ErrUnsupported)
		default:
			return fmt.Errorf("%w: canonical built-in %#x (async, threads, streams, futures or error-context)", ErrUnsupported, op)
		}
	}
	return nil
}

func checkOpts(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		o, err := r.byte()
		if err != nil {
			return err
		}
		switch o {
		case 0x00: // utf8
		case 0x01:
			return fmt.Errorf("%w: string-encoding=utf16", ErrUnsupported)
		case 0x02:
			return fmt.Errorf("%w: string-encoding=latin1+utf16", ErrUnsupported)
		case 0x03: // memory: 0x00 memidx
			if _, err := r.u32(); err != nil {
				return err
			}
		case 0x04, 0x05: // realloc, post-return
			if _, err := r.u32(); err != nil {
				return err
			}
		case 0x06:
			return fmt.Errorf("%w: async lift/lower", ErrUnsupported)
		default:
			return fmt.Errorf("%w: canonical option %#x", ErrUnsupported, o)
		}
	}
	return nil
}
