package spectest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hlwasm/hlwasm/internal/machine"
)

// fileRun is the state of one file's script.
type fileRun struct {
	ctx     context.Context // the current command's
	lastErr error           // the backend's error for the current command, for Deviation
	store   Store
	dir     string
	current *modRef // the last module command's
	named   map[string]*modRef
	res     *Result
	// Module definitions (module_definition): their files by name ("" = the last one), and
	// the names some module_instance instantiates (the others are only validated).
	defs         map[string]string
	instantiated map[string]bool
}

// modRef is the outcome of a module command.
type modRef struct {
	inst Instance
	line int
	err  error // non-nil if the module failed or was skipped
}

// errScript marks a problem of the script rather than of the backend (a module that failed
// earlier, an undecodable argument...).
var errScript = errors.New("script error")

// outcomeOf: a backend's unsupported feature is a skip, anything else a failure.
func outcomeOf(err error) outcome {
	if errors.Is(err, ErrBackendUnsupported) {
		return skip
	}
	return fail
}

func (f *fileRun) run(c, next *command) (outcome, string) {
	switch c.Type {
	case "module":
		return f.module(c, next)
	case "module_definition":
		return f.moduleDefinition(c)
	case "module_instance":
		return f.moduleInstance(c, next)
	case "register":
		return f.register(c)
	case "action":
		_, o, d := f.act(c)
		return o, d
	case "assert_return":
		return f.assertReturn(c)
	case "assert_trap", "assert_exhaustion":
		return f.assertTrap(c)
	case "assert_exception": // exception handling: the action throws and nothing catches
		c.Text = "uncaught exception"
		return f.assertTrap(c)
	case "assert_malformed":
		return f.assertModuleError(c, machine.ErrMalformed)
	case "assert_invalid":
		return f.assertModuleError(c, machine.ErrInvalid)
	case "assert_unlinkable":
		return f.assertModuleError(c, machine.ErrUnlinkable)
	case "assert_uninstantiable":
		return f.assertModuleError(c, machine.ErrTrap)
	}
	return fail, fmt.Sprintf("unknown command type %q", c.Type)
}

func (f *fileRun) readModule(c *command) ([]byte, error) {
	if strings.ContainsAny(c.Filename, `/\`) {
		return nil, fmt.Errorf("unexpected module file name %q", c.Filename)
	}
	return os.ReadFile(filepath.Join(f.dir, c.Filename))
}

// instantiate instantiates wasm, naming it at once if the store needs that and the script
// registers it right after (the register command then runs as usual).
func instantiate(ctx context.Context, s Store, wasm []byte, registerAs string) (Instance, error) {
	if ia, ok := s.(InstantiateAser); ok && registerAs != "" {
		return ia.InstantiateAs(ctx, wasm, registerAs)
	}
	return s.Instantiate(ctx, wasm)
}

func (f *fileRun) module(c, next *command) (outcome, string) {
	ref := &modRef{line: c.Line}
	f.current = ref
	if c.Name != "" {
		f.named[c.Name] = ref
	}
	wasm, err := f.readModule(c)
	if err != nil {
		ref.err = err
		return fail, err.Error()
	}
	as := ""
	if next != nil && next.Type == "register" && (next.Name == "" || next.Name == c.Name) {
		as = next.As
	}
	ref.inst, ref.err = instantiate(f.ctx, f.store, wasm, as)
	if ref.err != nil {
		f.lastErr = ref.err
		return outcomeOf(ref.err), fmt.Sprintf("%s: %v", c.Filename, ref.err)
	}
	return pass, ""
}

// moduleDefinition records a module definition. One that no module_instance of the script
// instantiates (a module that validates but need not instantiate, e.g. a memory larger than
// any machine) is instantiated once, which must not fail as malformed or invalid (no store
// here has a validate-only operation); an engine limit or unsupported feature is a skip.
func (f *fileRun) moduleDefinition(c *command) (outcome, string) {
	f.defs[c.Name] = c.Filename
	f.defs[""] = c.Filename // (module instance) without a name: the last definition
	if f.instantiated[c.Name] {
		return pass, ""
	}
	wasm, err := f.readModule(c)
	if err != nil {
		return fail, err.Error()
	}
	_, err = f.store.Instantiate(f.ctx, wasm)
	f.lastErr = err
	switch {
	case err == nil, errors.Is(err, machine.ErrTrap), errors.Is(err, machine.ErrUnlinkable):
		return pass, ""
	case errors.Is(err, ErrBackendUnsupported):
		return skip, fmt.Sprintf("%s: %v", c.Filename, err)
	}
	return fail, fmt.Sprintf("%s: %v (a definition that must validate)", c.Filename, err)
}

// moduleInstance instantiates a definition (c.Module, "" = the last one) as module c.Name.
func (f *fileRun) moduleInstance(c, next *command) (outcome, string) {
	file, ok := f.defs[c.Module]
	if !ok {
		f.current = &modRef{line: c.Line, err: fmt.Errorf("%w: no module definition %q", errScript, c.Module)}
		return fail, f.current.err.Error()
	}
	m := *c
	m.Filename = file
	return f.module(&m, next)
}

// instance resolves a module reference ("" = the current module). Commands on a module that
// was skipped are skipped too.
func (f *fileRun) instance(name string) (Instance, error) {
	ref := f.current
	if name != "" {
		ref = f.named[name]
	}
	switch {
	case ref == nil && name != "":
		return 0, fmt.Errorf("%w: unknown module %s", errScript, name)
	case ref == nil:
		return 0, fmt.Errorf("%w: no module yet", errScript)
	case errors.Is(ref.err, ErrBackendUnsupported):
		return 0, fmt.Errorf("%w: the module of line %d was skipped", ErrBackendUnsupported, ref.line)
	case ref.err != nil:
		return 0, fmt.Errorf("%w: the module of line %d failed", errScript, ref.line)
	}
	return ref.inst, nil
}

func (f *fileRun) register(c *command) (outcome, string) {
	inst, err := f.instance(c.Name)
	if err == nil {
		err = f.store.Register(f.ctx, inst, c.As)
		f.lastErr = err
	}
	if err != nil {
		return outcomeOf(err), fmt.Sprintf("register %q: %v", c.As, err)
	}
	return pass, ""
}

// act performs an invoke or get action.
func (f *fileRun) act(c *command) ([]uint64, outcome, string) {
	res, err := f.perform(c)
	if err != nil {
		return nil, outcomeOf(err), fmt.Sprintf("%s %q: %v", c.Action.Type, c.Action.Field, err)
	}
	return res, pass, ""
}

func (f *fileRun) perform(c *command) ([]uint64, error) {
	inst, err := f.instance(c.Action.Module)
	if err != nil {
		return nil, err
	}
	var res []uint64
	switch c.Action.Type {
	case "invoke":
		args, err := encodeArgs(c.Action.Args)
		if errors.Is(err, ErrBackendUnsupported) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: bad arguments: %v", errScript, err)
		}
		res, err = f.store.Invoke(f.ctx, inst, c.Action.Field, args)
		f.lastErr = err
		return res, err
	case "get":
		res, err = f.store.GetGlobal(f.ctx, inst, c.Action.Field)
		f.lastErr = err
		return res, err
	}
	return nil, fmt.Errorf("%w: unknown action type %q", errScript, c.Action.Type)
}

func (f *fileRun) assertReturn(c *command) (outcome, string) {
	got, o, d := f.act(c)
	if o != pass {
		return o, d
	}
	if len(c.Either) > 0 { // relaxed SIMD: any of the allowed results
		var descs []string
		for _, e := range c.Either {
			ok, desc, err := matchResults([]value{e}, got)
			if err != nil {
				return fail, "bad expectation: " + err.Error()
			}
			if ok {
				return pass, ""
			}
			descs = append(descs, desc)
		}
		return fail, fmt.Sprintf("%s: none of: %s", c.Action.Field, strings.Join(descs, "; "))
	}
	ok, desc, err := matchResults(c.Expected, got)
	if err != nil {
		return fail, "bad expectation: " + err.Error()
	}
	if !ok {
		return fail, fmt.Sprintf("%s: %s", c.Action.Field, desc)
	}
	return pass, ""
}

func (f *fileRun) assertTrap(c *command) (outcome, string) {
	res, err := f.perform(c)
	if err == nil {
		return fail, fmt.Sprintf("%s: returned %x, want trap %q", c.Action.Field, res, c.Text)
	}
	o, d := checkTrap(err, c.Text)
	return o, c.Action.Field + ": " + d
}

// checkTrap accepts a trap whose message starts with the expected text, as the reference
// interpreter's script runner does. The reference interpreter appends details to a few
// messages ("uninitialized element 2"); trailing numbers of the expected text are not required.
func checkTrap(err error, want string) (outcome, string) {
	if errors.Is(err, ErrBackendUnsupported) {
		return skip, err.Error()
	}
	if !errors.Is(err, machine.ErrTrap) {
		return fail, fmt.Sprintf("got %v, want trap %q", err, want)
	}
	want = trailingNumber.ReplaceAllString(want, "")
	msgs := trapMessages(err)
	for _, m := range msgs {
		if strings.HasPrefix(m, want) {
			return pass, ""
		}
	}
	return fail, fmt.Sprintf("trap %q (%v), want %q", msgs, err, want)
}

var trailingNumber = regexp.MustCompile(` [0-9]+$`)

func (f *fileRun) assertModuleError(c *command, want error) (outcome, string) {
	if c.ModuleType == "text" {
		return notApplicable, "text-format module"
	}
	wasm, err := f.readModule(c)
	if err != nil {
		return fail, err.Error()
	}
	_, err = f.store.Instantiate(f.ctx, wasm)
	f.lastErr = err
	if err == nil {
		return fail, fmt.Sprintf("%s: instantiated, want %v (%q)", c.Filename, want, c.Text)
	}
	if want == machine.ErrTrap {
		o, d := checkTrap(err, c.Text)
		return o, c.Filename + ": " + d
	}
	if errors.Is(err, ErrBackendUnsupported) {
		return skip, fmt.Sprintf("%s: %v", c.Filename, err)
	}
	if !errors.Is(err, want) {
		return fail, fmt.Sprintf("%s: got %v, want %v (%q)", c.Filename, err, want, c.Text)
	}
	return pass, ""
}
