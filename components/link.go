package components

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hlwasm/hlwasm/wit"
)

// CanonModule is the core import module of a [Link]'s canonical built-ins: "$canon"."<i>" is
// Link.Canon[i], which the host implements.
const CanonModule = "$canon"

// PartName is the name part i of a [Link] is registered under, for later parts to import.
func PartName(i int) string { return "$p" + strconv.Itoa(i) }

// Link says how to instantiate a component's core modules in one store, linked by the
// engine's ordinary import matching: load Parts in order, registering part i as PartName(i)
// (their imports are rewritten to name those parts and CanonModule), with the host functions
// of Canon defined under CanonModule. It covers what wit-component makes of a core module and
// a WASI adapter: several core modules, instances wiring one's exports into another's imports
// (a memory and tables included), canonical lowering of imported functions and
// resource.drop.
type Link struct {
	// World is the component's world.
	World *wit.World
	// Parts are the core instances that instantiate modules, in instantiation order.
	Parts []Part
	// Canon are the host functions the parts import from CanonModule, by index.
	Canon []Canon
	// Lifts are the core exports the component lifts into component functions.
	Lifts []CoreRef
	// OneMemory says that every part has the same memory, the one all canonical options
	// name (parts without a memory of their own import it): a canonical built-in may then use
	// its caller's memory instead of asking for the options' one.
	OneMemory bool
}

// Part is one core module instance: its module with imports rewritten.
type Part struct {
	Wasm []byte
}

// CoreRef names an export of a part.
type CoreRef struct {
	Part int
	Name string
}

// CanonKind is what a canonical built-in does.
type CanonKind int

const (
	// CanonLower is an imported function lowered to a core function.
	CanonLower CanonKind = iota
	// CanonResourceDrop drops a handle of an imported resource.
	CanonResourceDrop
	// CanonResourceBuiltin is resource.new, resource.rep or resource.drop of a resource the
	// component exports (implements): Func is the core import that names it,
	// "[export]<interface>#[resource-new|rep|drop]<name>" (wit.Resource's Module and field).
	CanonResourceBuiltin
)

// Canon is one canonical built-in. Func is the WIT import it calls (World.Func key:
// "ns:pkg/iface@ver#name", "…#[resource-drop]res" for drops), or for CanonResourceBuiltin the
// built-in of an exported resource. Memory and Realloc, when set,
// are the memory the lowered function reads and writes and the function that allocates in it.
type Canon struct {
	Kind    CanonKind
	Func    string
	Memory  *CoreRef
	Realloc *CoreRef
}

// coreItem is an entry of a core index space: an export of a part, or a canonical built-in.
type coreItem struct {
	part  int // -1: canon
	name  string
	canon int
}

type coreInstance struct {
	part int                 // >= 0: an instantiated module
	bag  map[string]coreItem // part < 0: an instance made of exports
}

type namedRef struct{ iface, name string } // an export of an imported component instance

type linker struct {
	l         *Link
	modules   [][]byte
	insts     []coreInstance
	core      map[byte][]coreItem // by core sort: 0 func, 1 table, 2 memory, 3 global
	funcs     []namedRef          // component functions
	instances []string            // component instances: import names ("" otherwise)
	types     []namedRef          // component types
	memOf     []int               // per part: the part whose memory it has (-1 none, -2 unknown)
	orig      [][]byte            // per part: its module as the component has it
	resolved  [][]resolvedImport  // per part: what each import resolved to, in order
}

type resolvedImport struct {
	kind byte
	it   coreItem
}

// DecodeLink decodes a component into a [Link]. Errors wrap ErrMalformed or ErrUnsupported.
func DecodeLink(b []byte) (*Link, error) {
	if Detect(b) != KindComponent {
		return nil, fmt.Errorf("%w: not a component", ErrMalformed)
	}
	// the structural checks of Decode: nesting, sections, canonical built-ins and options
	if err := (&Component{}).walk(b, 0); err != nil {
		return nil, err
	}
	l, err := planLink(b)
	if err != nil {
		return nil, err
	}
	if l.World, err = decodeWorld(b, ""); err != nil {
		return nil, err
	}
	for i, c := range l.Canon {
		if c.Kind == CanonResourceBuiltin {
			if _, ok := l.World.ResourceBuiltin(c.Func); !ok && c.Func != "" {
				return nil, fmt.Errorf("%w: canonical built-in %d is %s, of no resource the world exports", ErrMalformed, i, c.Func)
			}
			continue
		}
		if _, err := l.World.Func(c.Func, false); err != nil {
			return nil, fmt.Errorf("%w: canonical built-in %d calls %s, which the world does not import", ErrMalformed, i, c.Func)
		}
	}
	return l, nil
}

// planLink reads the top-level index spaces of a component (split from DecodeLink so that it
// can be fuzzed without running wasm-tools).
func planLink(b []byte) (*Link, error) {
	secs, err := sections(b)
	if err != nil {
		return nil, err
	}
	k := &linker{l: &Link{}, core: map[byte][]coreItem{}}
	for _, s := range secs {
		r := &reader{b: s.payload, off: s.off}
		switch s.id {
		case secCoreModule:
			k.modules = append(k.modules, s.payload)
		case secCoreInstance:
			err = k.coreInstances(r)
		case secAlias:
			err = k.aliases(r)
		case secCanon:
			err = k.canons(r)
		case secImport:
			err = k.imports(r)
		case secExport:
			err = k.exports(r)
		case secInstance:
			var n uint32
			if n, err = r.u32(); err == nil {
				for range n {
					k.instances = append(k.instances, "")
				}
			}
		case secType:
			var n uint32
			if n, err = r.u32(); err == nil {
				for range n {
					k.types = append(k.types, namedRef{})
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if len(k.l.Parts) == 0 {
		return nil, fmt.Errorf("%w: the component instantiates no core module", ErrUnsupported)
	}
	if err := k.bypassShims(); err != nil {
		return nil, err
	}
	k.oneMemory()
	return k.l, nil
}

// oneMemory sets Link.OneMemory when the canonical options name one memory, defined by a part,
// and every part has that memory or none: a built-in called from a part with a memory may use
// its caller's.
func (k *linker) oneMemory() {
	var ref *CoreRef
	for _, c := range k.l.Canon {
		switch {
		case c.Memory == nil:
		case ref == nil:
			ref = c.Memory
		case *ref != *c.Memory:
			return
		}
	}
	if ref == nil || k.memOf[ref.Part] != ref.Part {
		return
	}
	for _, m := range k.memOf {
		if m != -1 && m != ref.Part {
			return
		}
	}
	k.l.OneMemory = true
}

func (k *linker) coreInstances(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		tag, err := r.byte()
		if err != nil {
			return err
		}
		switch tag {
		case 0x00: // instantiate module with args
			m, err := r.u32()
			if err != nil {
				return err
			}
			if m >= uint32(len(k.modules)) {
				return r.errf("core module %d out of range", m)
			}
			na, err := r.u32()
			if err != nil {
				return err
			}
			args := map[string]uint32{}
			for range na {
				name, err := r.name()
				if err != nil {
					return err
				}
				if s, err := r.byte(); err != nil {
					return err
				} else if s != 0x12 {
					return r.errf("instantiate argument of sort %#x", s)
				}
				i, err := r.u32()
				if err != nil {
					return err
				}
				if i >= uint32(len(k.insts)) {
					return r.errf("core instance %d out of range", i)
				}
				args[name] = i
			}
			ci, err := parseCore(k.modules[m])
			if err != nil {
				return fmt.Errorf("core module %d: %w", m, err)
			}
			part := len(k.l.Parts)
			mem := -1
			if ci.definesMemory {
				mem = part
			}
			var res []resolvedImport
			wasm, err := rewriteImports(k.modules[m], func(mod, name string, kind byte) (string, string, error) {
				i, ok := args[mod]
				if !ok {
					return "", "", fmt.Errorf("%w: core module %d imports %s.%s, which its instantiation does not provide", ErrMalformed, m, mod, name)
				}
				it, err := k.export(i, name)
				if err != nil {
					return "", "", err
				}
				res = append(res, resolvedImport{kind, it})
				if it.part < 0 {
					if err := k.nameBuiltin(it.canon, mod, name); err != nil {
						return "", "", err
					}
					return CanonModule, strconv.Itoa(it.canon), nil
				}
				if kind == 2 {
					mem = -2
					if q := k.memOf[it.part]; q == it.part { // the memory q defines
						mem = q
					}
				}
				return PartName(it.part), it.name, nil
			})
			if err != nil {
				return err
			}
			k.insts = append(k.insts, coreInstance{part: part})
			k.l.Parts = append(k.l.Parts, Part{Wasm: wasm})
			k.memOf = append(k.memOf, mem)
			k.orig = append(k.orig, k.modules[m])
			k.resolved = append(k.resolved, res)
		case 0x01: // from exports
			ne, err := r.u32()
			if err != nil {
				return err
			}
			bag := map[string]coreItem{}
			for range ne {
				name, err := r.name()
				if err != nil {
					return err
				}
				sort, err := r.byte()
				if err != nil {
					return err
				}
				idx, err := r.u32()
				if err != nil {
					return err
				}
				it, err := k.coreIndex(r, sort, idx)
				if err != nil {
					return err
				}
				bag[name] = it
			}
			k.insts = append(k.insts, coreInstance{part: -1, bag: bag})
		default:
			return r.errf("core instance kind %#x", tag)
		}
	}
	return nil
}

// nameBuiltin names an exported resource's built-in by the core import that uses it (its module
// is "[export]<interface>", its field "[resource-new]<name>" and so on, as wit-component writes
// them); every import of one built-in must name it the same.
func (k *linker) nameBuiltin(canon int, mod, name string) error {
	c := &k.l.Canon[canon]
	if c.Kind != CanonResourceBuiltin {
		return nil
	}
	key := mod + "#" + name
	if !strings.HasPrefix(mod, "[export]") || !(strings.HasPrefix(name, "[resource-new]") ||
		strings.HasPrefix(name, "[resource-rep]") || strings.HasPrefix(name, "[resource-drop]")) {
		return fmt.Errorf("%w: a resource built-in imported as %s.%s", ErrMalformed, mod, name)
	}
	if c.Func != "" && c.Func != key {
		return fmt.Errorf("%w: a resource built-in imported as both %s and %s", ErrMalformed, c.Func, key)
	}
	c.Func = key
	return nil
}

// export resolves export name of core instance i.
func (k *linker) export(i uint32, name string) (coreItem, error) {
	in := k.insts[i]
	if in.part >= 0 {
		return coreItem{part: in.part, name: name}, nil
	}
	it, ok := in.bag[name]
	if !ok {
		return coreItem{}, fmt.Errorf("%w: core instance %d has no export %q", ErrMalformed, i, name)
	}
	return it, nil
}

func (k *linker) coreIndex(r *reader, sort byte, idx uint32) (coreItem, error) {
	if sort > 3 {
		return coreItem{}, r.errf("core export of sort %#x", sort)
	}
	space := k.core[sort]
	if idx >= uint32(len(space)) {
		return coreItem{}, r.errf("core index %d of sort %d out of range", idx, sort)
	}
	return space[idx], nil
}

func (k *linker) aliases(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		sort, err := r.byte()
		if err != nil {
			return err
		}
		var core byte
		if sort == 0x00 {
			if core, err = r.byte(); err != nil {
				return err
			}
		}
		target, err := r.byte()
		if err != nil {
			return err
		}
		switch target {
		case 0x00: // export of a component instance
			i, err := r.u32()
			if err != nil {
				return err
			}
			name, err := r.name()
			if err != nil {
				return err
			}
			if i >= uint32(len(k.instances)) {
				return r.errf("component instance %d out of range", i)
			}
			ref := namedRef{k.instances[i], name}
			switch sort {
			case 0x01:
				k.funcs = append(k.funcs, ref)
			case 0x03:
				k.types = append(k.types, ref)
			case 0x05:
				k.instances = append(k.instances, "")
			case 0x00:
				return r.errf("core alias of a component instance export")
			}
		case 0x01: // export of a core instance
			i, err := r.u32()
			if err != nil {
				return err
			}
			name, err := r.name()
			if err != nil {
				return err
			}
			if sort != 0x00 || core > 3 {
				return r.errf("alias of a core export of sort %#x/%#x", sort, core)
			}
			if i >= uint32(len(k.insts)) {
				return r.errf("core instance %d out of range", i)
			}
			it, err := k.export(i, name)
			if err != nil {
				return err
			}
			k.core[core] = append(k.core[core], it)
		case 0x02: // outer
			if _, err := r.u32(); err != nil {
				return err
			}
			if _, err := r.u32(); err != nil {
				return err
			}
			if sort == 0x03 {
				k.types = append(k.types, namedRef{})
			} else if sort != 0x04 && !(sort == 0x00 && (core == 0x10 || core == 0x11)) {
				return fmt.Errorf("%w: outer alias of sort %#x", ErrUnsupported, sort)
			}
		default:
			return r.errf("alias target %#x", target)
		}
	}
	return nil
}

func (k *linker) canons(r *reader) error {
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
		case 0x00, 0x01: // lift, lower (sub-opcode 0, checked by walk)
			if _, err := r.byte(); err != nil {
				return err
			}
			f, err := r.u32()
			if err != nil {
				return err
			}
			c := Canon{Kind: CanonLower}
			var realloc, memory *CoreRef
			if memory, realloc, err = k.opts(r); err != nil {
				return err
			}
			if op == 0x00 {
				if _, err := r.u32(); err != nil { // the function type
					return err
				}
				it, err := k.coreIndex(r, 0, f)
				if err != nil {
					return err
				}
				if it.part < 0 {
					return fmt.Errorf("%w: lifting a canonical built-in", ErrUnsupported)
				}
				k.l.Lifts = append(k.l.Lifts, CoreRef{Part: it.part, Name: it.name})
				k.funcs = append(k.funcs, namedRef{})
				continue
			}
			if f >= uint32(len(k.funcs)) {
				return r.errf("function %d out of range", f)
			}
			ref := k.funcs[f]
			switch {
			case ref.name == "":
				return fmt.Errorf("%w: lowering a function the component defines itself", ErrUnsupported)
			case ref.iface == "":
				c.Func = ref.name
			default:
				c.Func = ref.iface + "#" + ref.name
			}
			c.Memory, c.Realloc = memory, realloc
			k.addCanon(c)
		case 0x03: // resource.drop
			t, err := r.u32()
			if err != nil {
				return err
			}
			if t >= uint32(len(k.types)) {
				return r.errf("type %d out of range", t)
			}
			ref := k.types[t]
			if ref.iface == "" { // the component's own resource: named by the core import using it
				k.addCanon(Canon{Kind: CanonResourceBuiltin})
				continue
			}
			k.addCanon(Canon{Kind: CanonResourceDrop, Func: ref.iface + "#[resource-drop]" + ref.name})
		case 0x02, 0x04: // resource.new, resource.rep: only of the component's own resources
			t, err := r.u32()
			if err != nil {
				return err
			}
			if t >= uint32(len(k.types)) {
				return r.errf("type %d out of range", t)
			}
			k.addCanon(Canon{Kind: CanonResourceBuiltin})
		default:
			return fmt.Errorf("%w: canonical built-in %#x", ErrUnsupported, op)
		}
	}
	return nil
}

func (k *linker) addCanon(c Canon) {
	k.core[0] = append(k.core[0], coreItem{part: -1, canon: len(k.l.Canon)})
	k.l.Canon = append(k.l.Canon, c)
}

// opts reads canonical options (their kinds were checked by walk): the memory and realloc.
func (k *linker) opts(r *reader) (memory, realloc *CoreRef, err error) {
	n, err := r.u32()
	if err != nil {
		return nil, nil, err
	}
	for range n {
		o, err := r.byte()
		if err != nil {
			return nil, nil, err
		}
		switch o {
		case 0x03, 0x04, 0x05:
			idx, err := r.u32()
			if err != nil {
				return nil, nil, err
			}
			sort := byte(0)
			if o == 0x03 {
				sort = 2
			}
			it, err := k.coreIndex(r, sort, idx)
			if err != nil {
				return nil, nil, err
			}
			if it.part < 0 {
				return nil, nil, fmt.Errorf("%w: a canonical built-in as a canonical option", ErrUnsupported)
			}
			ref := &CoreRef{Part: it.part, Name: it.name}
			switch o {
			case 0x03:
				memory = ref
			case 0x04:
				realloc = ref
			}
		}
	}
	return memory, realloc, nil
}

// externName reads an importname' / exportname'.
func externName(r *reader) (string, error) {
	tag, err := r.byte()
	if err != nil {
		return "", err
	}
	if tag != 0x00 {
		return "", fmt.Errorf("%w: import or export name encoding %#x", ErrUnsupported, tag)
	}
	return r.name()
}

// externDesc reads an externdesc and returns its sort (0x11 core module, 0x01 func, 0x02 value,
// 0x03 type, 0x04 component, 0x05 instance).
func externDesc(r *reader) (byte, error) {
	kind, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch kind {
	case 0x00: // core module: 0x11 typeidx
		if _, err := r.byte(); err != nil {
			return 0, err
		}
		_, err = r.u32()
		return 0x11, err
	case 0x01, 0x04, 0x05:
		_, err = r.u32()
	case 0x03: // type bound: eq typeidx, or sub resource
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		if b == 0x00 {
			_, err = r.u32()
		}
		return kind, err
	default:
		return 0, fmt.Errorf("%w: import or export of kind %#x (component values?)", ErrUnsupported, kind)
	}
	return kind, err
}

func (k *linker) imports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		name, err := externName(r)
		if err != nil {
			return err
		}
		kind, err := externDesc(r)
		if err != nil {
			return err
		}
		switch kind {
		case 0x01:
			k.funcs = append(k.funcs, namedRef{"", name})
		case 0x03:
			k.types = append(k.types, namedRef{})
		case 0x05:
			k.instances = append(k.instances, name)
		case 0x11, 0x04:
			return fmt.Errorf("%w: imported modules or components", ErrUnsupported)
		}
	}
	return nil
}

// exports count the indices exports add.
func (k *linker) exports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		if _, err := externName(r); err != nil {
			return err
		}
		sort, err := r.byte()
		if err != nil {
			return err
		}
		if sort == 0x00 {
			if _, err := r.byte(); err != nil {
				return err
			}
		}
		if _, err := r.u32(); err != nil {
			return err
		}
		has, err := r.byte()
		if err != nil {
			return err
		}
		if has == 0x01 {
			if _, err := externDesc(r); err != nil {
				return err
			}
		}
		switch sort {
		case 0x01:
			k.funcs = append(k.funcs, namedRef{})
		case 0x03:
			k.types = append(k.types, namedRef{})
		case 0x05:
			k.instances = append(k.instances, "")
		}
	}
	return nil
}

// rewriteImports returns module b with each import's module and name replaced by f's.
func rewriteImports(b []byte, f func(mod, name string, kind byte) (string, string, error)) ([]byte, error) {
	secs, err := sections(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), b[:8]...)
	for _, s := range secs {
		payload := s.payload
		if s.id == 2 {
			if payload, err = rewriteImportSection(s, f); err != nil {
				return nil, err
			}
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
	}
	return out, nil
}

func rewriteImportSection(s section, f func(mod, name string, kind byte) (string, string, error)) ([]byte, error) {
	r := &reader{b: s.payload, off: s.off}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := appendU32(nil, n)
	for range n {
		mod, err := r.name()
		if err != nil {
			return nil, err
		}
		name, err := r.name()
		if err != nil {
			return nil, err
		}
		start := r.i
		if err := r.importDesc(); err != nil {
			return nil, err
		}
		m2, n2, err := f(mod, name, r.b[start])
		if err != nil {
			return nil, err
		}
		out = appendName(out, m2)
		out = appendName(out, n2)
		out = append(out, r.b[start:r.i]...)
	}
	if !r.done() {
		return nil, r.errf("trailing bytes in the import section")
	}
	return out, nil
}

// importDesc skips a core import's description.
func (r *reader) importDesc() error {
	kind, err := r.byte()
	if err != nil {
		return err
	}
	switch kind {
	case 0: // func: typeidx
		_, err = r.u32()
	case 1: // table: reftype limits
		if _, err = r.byte(); err == nil {
			err = r.limits()
		}
	case 2: // memory: limits
		err = r.limits()
	case 3: // global: valtype mut
		if _, err = r.byte(); err == nil {
			_, err = r.byte()
		}
	case 4: // tag: 0x00 typeidx
		if _, err = r.byte(); err == nil {
			_, err = r.u32()
		}
	default:
		return r.errf("import kind %#x", kind)
	}
	return err
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// RunExport is the core export of a wasi:cli/run lift (CommandRun's result).
func (l *Link) RunExport() (CoreRef, bool) {
	for _, c := range l.Lifts {
		if strings.HasPrefix(c.Name, "wasi:cli/run@") && strings.HasSuffix(c.Name, "#run") {
			return c, true
		}
	}
	return CoreRef{}, false
}
