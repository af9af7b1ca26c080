package spectest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/internal/machine"
)

// WazeroBackend runs the suite on wazero's interpreter with the given core features; it
// validates the runner itself. Each Store is one wazero Runtime; registered names are module
// names in that runtime, so a module is named when instantiated (InstantiateAs).
type WazeroBackend struct {
	Features api.CoreFeatures
}

// Name implements Backend.
func (b WazeroBackend) Name() string { return "wazero" }

// NewStore implements Backend.
func (b WazeroBackend) NewStore(ctx context.Context) (Store, error) {
	cfg := wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(b.Features).WithCloseOnContextDone(true)
	return &wazeroStore{r: wazero.NewRuntimeWithConfig(ctx, cfg), features: b.Features}, nil
}

// Deviation implements Deviator: wazero's known departures from the spec (v1.12.0).
func (b WazeroBackend) Deviation(cmd, text string, err error) string {
	refTypes := b.Features.IsEnabled(api.CoreFeatureReferenceTypes)
	var compileErr wazeroCompileError
	switch {
	case cmd == "assert_uninstantiable" && text == "out of bounds table access" && refTypes && err == nil:
		return "wazero checks active element segment bounds lazily and keeps the instance"
	case cmd == "assert_unlinkable" && text == "elements segment does not fit" && !refTypes && errors.As(err, &compileErr):
		return "wazero rejects an element segment that does not fit a module-defined table when compiling"
	case cmd == "assert_invalid" && text == "constant expression required" && errors.Is(err, machine.ErrUnlinkable):
		return "wazero accepts global.get of a mutable imported global in a constant expression"
	}
	return ""
}

type wazeroStore struct {
	r        wazero.Runtime
	features api.CoreFeatures
	mods     []api.Module
}

func (s *wazeroStore) Instantiate(ctx context.Context, wasm []byte) (Instance, error) {
	return s.InstantiateAs(ctx, wasm, "")
}

func (s *wazeroStore) InstantiateAs(ctx context.Context, wasm []byte, name string) (Instance, error) {
	compiled, err := s.r.CompileModule(ctx, wasm)
	if err != nil {
		return 0, wazeroCompileError{err}
	}
	mod, err := s.r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
	if err != nil {
		return 0, s.classifyInstantiate(err)
	}
	s.mods = append(s.mods, mod)
	return Instance(len(s.mods) - 1), nil
}

func (s *wazeroStore) module(inst Instance) (api.Module, error) {
	if int(inst) >= len(s.mods) {
		return nil, fmt.Errorf("unknown instance %d", inst)
	}
	return s.mods[inst], nil
}

func (s *wazeroStore) Register(_ context.Context, inst Instance, name string) error {
	m, err := s.module(inst)
	if err != nil {
		return err
	}
	if m.Name() != name {
		return fmt.Errorf("%w: wazero names a module only when instantiating it (%q, not %q)", ErrBackendUnsupported, m.Name(), name)
	}
	return nil
}

func (s *wazeroStore) Invoke(ctx context.Context, inst Instance, export string, params []uint64) ([]uint64, error) {
	m, err := s.module(inst)
	if err != nil {
		return nil, err
	}
	fn := m.ExportedFunction(export)
	if fn == nil {
		return nil, fmt.Errorf("%w: function %q", ErrNoExport, export)
	}
	res, err := fn.Call(ctx, params...)
	if err != nil {
		return nil, classifyCall(err)
	}
	return res, nil
}

func (s *wazeroStore) GetGlobal(_ context.Context, inst Instance, export string) ([]uint64, error) {
	m, err := s.module(inst)
	if err != nil {
		return nil, err
	}
	g := m.ExportedGlobal(export)
	if g == nil {
		return nil, fmt.Errorf("%w: global %q", ErrNoExport, export)
	}
	if g.Type() == 0x7b {
		return nil, fmt.Errorf("%w: wazero's api.Global cannot read a v128", ErrBackendUnsupported)
	}
	return []uint64{g.Get()}, nil
}

func (s *wazeroStore) Close() error { return s.r.Close(context.Background()) }

// wazeroCompileError: wazero decodes and validates in one step and its public API does not
// say which failed, so a compile error counts as both malformed and invalid.
type wazeroCompileError struct{ err error }

func (e wazeroCompileError) Error() string { return "compile: " + e.err.Error() }
func (e wazeroCompileError) Unwrap() error { return e.err }
func (e wazeroCompileError) Is(target error) bool {
	return target == machine.ErrMalformed || target == machine.ErrInvalid
}

// wazeroTrap is a trap with the spec wordings wazero's message may stand for.
type wazeroTrap struct {
	msgs []string
	err  error
}

func (e wazeroTrap) Error() string          { return e.err.Error() }
func (e wazeroTrap) Is(target error) bool   { return target == machine.ErrTrap }
func (e wazeroTrap) TrapMessages() []string { return e.msgs }

// wazero's runtime error texts, by the spec wordings they stand for.
var wazeroTrapMessages = map[string][]string{
	"stack overflow":       {"call stack exhausted"},
	"invalid table access": {"out of bounds table access", "undefined element", "uninitialized element"},
}

const wasmErrorPrefix = "wasm error: "

// trapFrom extracts a trap from a wazero error, or returns nil.
func trapFrom(err error) error {
	s := err.Error()
	i := strings.Index(s, wasmErrorPrefix)
	if i < 0 {
		return nil
	}
	msg := s[i+len(wasmErrorPrefix):]
	if j := strings.IndexByte(msg, '\n'); j >= 0 {
		msg = msg[:j]
	}
	msgs, ok := wazeroTrapMessages[msg]
	if !ok {
		msgs = []string{msg}
	}
	return wazeroTrap{msgs: msgs, err: errors.New(firstLine(s))}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func classifyCall(err error) error {
	if t := trapFrom(err); t != nil {
		return t
	}
	return err
}

// classifyInstantiate: a trap of the start function is a trap; with reference types, an
// out-of-bounds data segment traps (its earlier segments stay written); everything else is a
// link error (unknown import, type mismatch, and for MVP semantics segments that do not fit).
func (s *wazeroStore) classifyInstantiate(err error) error {
	if t := trapFrom(err); t != nil {
		return t
	}
	msg := firstLine(err.Error())
	if s.features.IsEnabled(api.CoreFeatureReferenceTypes) && strings.HasSuffix(msg, ": out of bounds memory access") {
		return wazeroTrap{msgs: []string{"out of bounds memory access"}, err: errors.New(msg)}
	}
	return fmt.Errorf("%w: %s", machine.ErrUnlinkable, msg)
}
