package wit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hlwasm/hlwasm/api"
	bwit "go.bytecodealliance.org/wit"
)

// Exported (guest-defined) resources.
//
// A resource declared in an interface the world exports is implemented by the guest: its
// core module imports the canonical built-ins resource.new, resource.rep and resource.drop
// from module "[export]<interface>" ([Resource.Module]) and may export a destructor
// "<interface>#[dtor]<name>". [World.Bind] binds the built-ins. Each instance has two handle
// tables, kept in its host-side [api.State] (host.Sandbox has one, emptied by its Reset, so
// handles never outlive the instance state they index):
//
//   - the guest's table: handles the guest's core code holds (resource.new adds one for a
//     representation the guest chose; an own<T> the host passes in is added there);
//   - the host's table: handles the host holds (an own<T> a constructor returns is moved
//     there), which are the [Handle] values World.Call returns and takes.
//
// Lowering borrow<T> into the guest passes the representation itself (the guest implements
// T); the lent handle cannot be dropped or moved until the call returns. Everything the guest passes is checked: unknown or dropped handles, handles of another resource type,
// moving or dropping a lent handle trap with [ErrBadHandle] (and [ErrTrap]); host mistakes
// are [ErrType] and [ErrBadHandle].

// ErrBadHandle: a resource handle that is not in its table, of another resource type, a
// borrow where an own is needed, or lent to a call in progress.
var ErrBadHandle = errors.New("bad resource handle")

// DefaultMaxHandles is the default of Options.MaxHandles.
const DefaultMaxHandles = 1 << 16

func (o *Options) maxHandles() int {
	if o == nil || o.MaxHandles <= 0 {
		return DefaultMaxHandles
	}
	return o.MaxHandles
}

// Resource is a resource type the guest defines: a resource of an interface the world exports.
type Resource struct {
	// Name is the resource's WIT name ("counter"); Interface the exported interface
	// ("ns:pkg/iface@1.0.0").
	Name, Interface string
	// Module is the core import module of the canonical built-ins: "[export]" + Interface,
	// fields "[resource-new]<name>", "[resource-rep]<name>", "[resource-drop]<name>".
	Module string
	// Dtor is the core export of the destructor ("<interface>#[dtor]<name>"), called with
	// the representation when an owned handle is dropped, if the guest exports it.
	Dtor string
	// Def is the resource as go.bytecodealliance.org/wit decoded it.
	Def *bwit.TypeDef
}

// Resource is the exported resource an own<T> or borrow<T> type denotes, nil for any other
// type (imported resources included).
func (t *Type) Resource() *Resource {
	if (t.k == kOwn || t.k == kBorrow) && t.elem != nil {
		return t.elem.res
	}
	return nil
}

func (r *Resource) String() string { return r.Interface + "#" + r.Name }

func exportedResource(iface string, td *bwit.TypeDef) *Resource {
	n := td.TypeName()
	return &Resource{Name: n, Interface: iface, Module: "[export]" + iface, Dtor: iface + "#[dtor]" + n, Def: td}
}

// handle is one entry of a handle table.
type handle struct {
	res   *Resource
	rep   uint32
	own   bool
	lends int // borrows of this own handle in calls in progress
}

type handleTable struct {
	next uint32
	m    map[uint32]*handle
}

func (t *handleTable) add(h *handle, who string, limit int) (uint32, error) {
	if len(t.m) >= limit {
		return 0, fmt.Errorf("%w: %s handle table full (%d handles, Options.MaxHandles)", ErrLimit, who, limit)
	}
	if t.m == nil {
		t.m = map[uint32]*handle{}
	}
	for {
		t.next++
		if t.next == 0 { // handle 0 is never valid
			continue
		}
		if _, used := t.m[t.next]; !used {
			break
		}
	}
	t.m[t.next] = h
	return t.next, nil
}

// get finds handle i of resource r.
func (t *handleTable) get(i uint32, r *Resource, who string) (*handle, error) {
	h, ok := t.m[i]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s has no handle %d of %s (never created, or dropped)", ErrBadHandle, who, i, r)
	case h.res.String() != r.String():
		return nil, fmt.Errorf("%w: %s handle %d is a %s, not a %s", ErrBadHandle, who, i, h.res, r)
	}
	return h, nil
}

// take removes own handle i of resource r (a move or a drop).
func (t *handleTable) take(i uint32, r *Resource, who string) (*handle, error) {
	h, err := t.get(i, r, who)
	switch {
	case err != nil:
		return nil, err
	case !h.own:
		return nil, fmt.Errorf("%w: %s handle %d of %s is borrowed, not owned", ErrBadHandle, who, i, r)
	case h.lends > 0:
		return nil, fmt.Errorf("%w: %s handle %d of %s is lent to a call in progress", ErrBadHandle, who, i, r)
	}
	delete(t.m, i)
	return h, nil
}

// resources is an instance's two handle tables.
type resources struct {
	mu          sync.Mutex
	guest, host handleTable
}

type resourcesKey struct{}

// resourcesOf finds the handle tables of the instance a call runs in: from the context (host
// functions, and calls a host makes) or from the instance itself (api.Stateful).
func resourcesOf(ctx context.Context, inst any) (*resources, error) {
	st, ok := api.StateFromContext(ctx)
	if !ok {
		if s, is := inst.(api.Stateful); is {
			st, ok = s.State(), s.State() != nil
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: exported resources need an instance with host-side state (api.Stateful, as host.Sandbox)", ErrUnsupported)
	}
	return st.Value(resourcesKey{}, func() any { return &resources{} }).(*resources), nil
}

// handleState is what one lift or lower did to handle tables, undone or finished when the
// call ends (cx.finish).
type handleState struct {
	rs   *resources
	lent []*handle // own host handles lent to the guest for the call
}

func (c *cx) resources() (*resources, error) {
	if c.hs.rs == nil {
		rs, err := resourcesOf(c.ctx, c.inst)
		if err != nil {
			return nil, err
		}
		c.hs.rs = rs
	}
	return c.hs.rs, nil
}

// liftHandle moves a handle of an exported resource from the guest to the host: an own<T>
// leaves the guest's table for the host's.
func (c *cx) liftHandle(t *Type, i uint32) (Value, error) {
	rs, err := c.resources()
	if err != nil {
		return nil, err
	}
	r := t.elem.res
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if t.k == kOwn {
		h, err := rs.guest.take(i, r, "the guest")
		if err != nil {
			return nil, guestTrap(err, "own<%s>", r.Name)
		}
		n, err := rs.host.add(&handle{res: r, rep: h.rep, own: true}, "the host's", c.maxHandles)
		if err != nil {
			return nil, guestTrap(err, "%s", r.Name)
		}
		return Handle(n), nil
	}
	// WIT lets only imports take borrow<T> from the guest, and imports cannot name the
	// exported interfaces' resources.
	return nil, fmt.Errorf("%w: borrow<%s> of an exported resource passed to the host", ErrUnsupported, r.Name)
}

// lowerHandle passes a host handle of an exported resource to the guest: an own<T> moves to
// the guest's table; a borrow<T> passes the representation (the guest implements T), the
// host's handle lent until the call ends.
func (c *cx) lowerHandle(t *Type, v Value) (uint32, error) {
	x, ok := v.(Handle)
	if !ok {
		return 0, mismatch(t, v)
	}
	rs, err := c.resources()
	if err != nil {
		return 0, err
	}
	r := t.elem.res
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if t.k == kOwn {
		h, err := rs.host.take(uint32(x), r, "the host")
		if err != nil {
			return 0, fmt.Errorf("%w: own<%s>: %w", ErrType, r.Name, err)
		}
		n, err := rs.guest.add(&handle{res: r, rep: h.rep, own: true}, "the guest's", c.maxHandles)
		if err != nil {
			rs.host.m[uint32(x)] = h // not moved
			return 0, fmt.Errorf("%w: own<%s>: %w", ErrType, r.Name, err)
		}
		return n, nil
	}
	h, err := rs.host.get(uint32(x), r, "the host")
	if err != nil {
		return 0, fmt.Errorf("%w: borrow<%s>: %w", ErrType, r.Name, err)
	}
	if h.own {
		h.lends++
		c.hs.lent = append(c.hs.lent, h)
	}
	return h.rep, nil
}

// finish ends the call's borrows: the host handles lent to it are released.
func (c *cx) finish() {
	hs := &c.hs
	if hs.rs == nil {
		return
	}
	hs.rs.mu.Lock()
	defer hs.rs.mu.Unlock()
	for _, h := range hs.lent {
		h.lends--
	}
	*hs = handleState{rs: hs.rs}
}

// guestTrap is a trap caused by a handle the guest passed (err wraps ErrBadHandle or ErrLimit).
func guestTrap(err error, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w", ErrTrap, fmt.Sprintf(format, args...), err)
}

// resourceBuiltins are the canonical built-ins of r as host functions (bound by Bind).
func (w *World) resourceBuiltins(r *Resource) []api.HostFunction {
	i32 := []api.ValueType{api.ValueTypeI32}
	guest := func(ctx context.Context, what string) (*resources, error) {
		rs, err := resourcesOf(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("%s.%s%s: %w", r.Module, what, r.Name, err)
		}
		return rs, nil
	}
	trap := func(what string, err error) error { return guestTrap(err, "%s.%s%s", r.Module, what, r.Name) }
	return []api.HostFunction{
		{ModuleName: r.Module, Name: "[resource-new]" + r.Name, ParamTypes: i32, ResultTypes: i32,
			Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
				rs, err := guest(ctx, "[resource-new]")
				if err != nil {
					return err
				}
				rs.mu.Lock()
				defer rs.mu.Unlock()
				n, err := rs.guest.add(&handle{res: r, rep: uint32(stack[0]), own: true}, "the guest's", w.Options.maxHandles())
				if err != nil {
					return trap("[resource-new]", err)
				}
				stack[0] = uint64(n)
				return nil
			}},
		{ModuleName: r.Module, Name: "[resource-rep]" + r.Name, ParamTypes: i32, ResultTypes: i32,
			Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
				rs, err := guest(ctx, "[resource-rep]")
				if err != nil {
					return err
				}
				rs.mu.Lock()
				defer rs.mu.Unlock()
				h, err := rs.guest.get(uint32(stack[0]), r, "the guest")
				if err != nil {
					return trap("[resource-rep]", err)
				}
				stack[0] = uint64(h.rep)
				return nil
			}},
		{ModuleName: r.Module, Name: "[resource-drop]" + r.Name, ParamTypes: i32,
			Fn: func(ctx context.Context, _ api.Memory, stack []uint64) error {
				rs, err := guest(ctx, "[resource-drop]")
				if err != nil {
					return err
				}
				rs.mu.Lock()
				h, err := rs.guest.take(uint32(stack[0]), r, "the guest")
				rs.mu.Unlock()
				if err != nil {
					return trap("[resource-drop]", err)
				}
				cl, _ := api.CallerFromContext(ctx)
				return w.destroy(ctx, cl, h)
			}},
	}
}

// ResourceBuiltin is the canonical built-in key names ("[export]<interface>#[resource-new]<name>",
// "…#[resource-rep]…" or "…#[resource-drop]…": a core import's module and field) as a host
// function (the one Bind binds), for an exported resource of w.
func (w *World) ResourceBuiltin(key string) (api.HostFunction, bool) {
	for _, r := range w.Resources {
		for _, f := range w.resourceBuiltins(r) {
			if f.ModuleName+"#"+f.Name == key {
				return f, true
			}
		}
	}
	return api.HostFunction{}, false
}

// destroy runs the destructor of an owned handle just dropped, if the guest exports one.
func (w *World) destroy(ctx context.Context, inst caller, h *handle) error {
	has := w.Options.HasExport
	if has == nil {
		if x, ok := inst.(interface{ HasExport(string) bool }); ok {
			has = x.HasExport
		}
	}
	if has != nil && !has(h.res.Dtor) {
		return nil
	}
	if inst == nil {
		return fmt.Errorf("%w: no instance to call the destructor %s", ErrUnsupported, h.res.Dtor)
	}
	if _, err := inst.Call(ctx, h.res.Dtor, uint64(h.rep)); err != nil {
		return fmt.Errorf("destructor %s: %w", h.res.Dtor, err)
	}
	return nil
}

// Drop drops a handle of an exported resource the host holds (an own<T> a constructor or
// another export returned) and runs the guest's destructor on it. A handle lent to a call in
// progress, a borrow, or one already dropped is refused ([ErrBadHandle]).
func (w *World) Drop(ctx context.Context, inst Instance, resource string, h Handle) error {
	r, err := w.Resource(resource)
	if err != nil {
		return err
	}
	rs, err := resourcesOf(ctx, inst)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	e, err := rs.host.take(uint32(h), r, "the host")
	rs.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: dropping %w", ErrType, err)
	}
	return w.destroy(ctx, inst, e)
}

// Resource finds an exported resource by name: "counter", "iface#counter" or
// "ns:pkg/iface@1.0.0#counter".
func (w *World) Resource(name string) (*Resource, error) {
	var found []*Resource
	for _, r := range w.Resources {
		if r.String() == name || r.Name == name || shortIface(r.Interface)+"#"+r.Name == name || unversioned(r.Interface)+"#"+r.Name == name {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		names := make([]string, len(w.Resources))
		for i, r := range w.Resources {
			names[i] = r.String()
		}
		return nil, fmt.Errorf("%w: world %s exports no resource %q (it exports: %v)", ErrNotFound, w.Name, name, names)
	}
	return nil, fmt.Errorf("%w: resource %q is ambiguous", ErrNotFound, name)
}

func unversioned(iface string) string {
	for i := 0; i < len(iface); i++ {
		if iface[i] == '@' {
			return iface[:i]
		}
	}
	return iface
}

func shortIface(iface string) string {
	u := unversioned(iface)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}
