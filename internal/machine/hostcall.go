package machine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/errs"
)

// HostError is a host function's failure that ended a call (one definition for every engine).
type HostError = errs.HostError

// DefineHost declares host functions that modules loaded afterwards may import. The guest
// links an import to one only if module, name and signature all match. The table travels with
// the next Load (no round trip of its own).
func (m *Machine) DefineHost(ctx context.Context, defs []api.HostFunction) error {
	_ = ctx
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return err
	}
	b := m.pendingHost
	for _, d := range defs {
		if len(d.ModuleName) > 0xffff || len(d.Name) > 0xffff || len(d.ParamTypes) > 255 || len(d.ResultTypes) > 255 {
			return fmt.Errorf("%w: host function %s.%s: name or signature too long", ErrLimit, d.ModuleName, d.Name)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(m.hostFuncs)))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(d.ModuleName)))
		b = append(b, d.ModuleName...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(d.Name)))
		b = append(b, d.Name...)
		b = append(b, byte(len(d.ParamTypes)))
		for _, t := range d.ParamTypes {
			b = append(b, byte(t))
		}
		b = append(b, byte(len(d.ResultTypes)))
		for _, t := range d.ResultTypes {
			b = append(b, byte(t))
		}
		m.hostFuncs = append(m.hostFuncs, d)
	}
	if len(b) > len(m.xfer) {
		return fmt.Errorf("%w: host function table exceeds the transfer window", ErrLimit)
	}
	m.pendingHost, m.pendingCount = b, m.pendingCount+len(defs)
	return nil
}

// BindHostFuncs sets the host side of host functions the guest already knows (a machine
// started from a snapshot file whose guest memory holds the synthesized host modules): defs
// must be what DefineHost was given when the snapshot's machine was set up, in that order.
func (m *Machine) BindHostFuncs(defs []api.HostFunction) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hostFuncs = append([]api.HostFunction(nil), defs...)
}

// hostFrame is one host call as its function sees it: the calling instance (api.Caller, for
// nested calls), its memory view and the parameter/result slots, in one allocation.
type hostFrame struct {
	m       *Machine
	mem     api.Memory // nil when the caller has no memory
	view    guestView  // mem's storage
	memBase uint64
	callCtx context.Context // the context of the call the host function serves
	// sess is the server session the function runs in (nil: on the request's own goroutine).
	sess  *serveSession
	mu    sync.Mutex // held by a nested call while it runs
	ended bool       // under mu: the host call is over; later nested calls fail
	cctx  api.CallerContext
	slots [8]uint64
}

// serveHostCall runs the host function the guest asked for and writes its results. Everything
// read from the mailbox is checked: the function id, the value counts against the declared
// signature, and the memory window against the guest's heap. It returns errAbandoned, having
// touched nothing, when the request gave the function up while it ran (on the server: see
// handOff); every other failure is recorded in m.hostErr or m.broken.
func (m *Machine) serveHostCall(ctx context.Context) error {
	if err := m.ioDrain(ctx, false); err != nil { // the guest's batch goes first, whatever the function
		m.hostErr = err
		m.put32(abi.MbHostStatus, 1)
		return nil
	}
	fail := func(err error) error {
		m.hostErr = err
		m.put32(abi.MbHostStatus, 1)
		return nil
	}
	id := m.get32(abi.MbHostFunc)
	if id >= uint32(len(m.hostFuncs)) {
		return fail(fmt.Errorf("%w: guest called unknown host function %d", ErrGuestFault, id))
	}
	d := &m.hostFuncs[id]
	np, nr := int(m.get32(abi.MbHostNParams)), int(m.get32(abi.MbHostNResults))
	if np != len(d.ParamTypes) || nr != len(d.ResultTypes) {
		return fail(fmt.Errorf("%w: guest called %s.%s with %d params/%d results", ErrGuestFault, d.ModuleName, d.Name, np, nr))
	}
	f := &hostFrame{m: m, callCtx: ctx, sess: m.sess}
	f.memBase = m.get64(abi.MbHostMemBase) // nested host calls rewrite the host-call area
	if err := m.frameMemory(f, m.get64(abi.MbHostMemSize)); err != nil {
		return fail(err)
	}
	var stack []uint64
	if n := max(np, nr); n <= len(f.slots) {
		stack = f.slots[:n]
	} else {
		stack = make([]uint64, n)
	}
	for i := 0; i < np; i++ {
		stack[i] = m.get64(abi.MbHostValues + 8*i)
	}
	f.cctx = api.CallerContext{Context: ctx, Caller: f} // api.WithCaller, without an allocation
	cctx := &f.cctx
	var err error
	if s := f.sess; s != nil {
		// On the server: the request's goroutine may give the function up while it runs (its
		// deadline, Close). It takes s.mu to do so, so the machine is left alone meanwhile.
		s.fn = d
		s.mu.Unlock()
		err = callHost(cctx, d.Fn, f.mem, stack)
		s.mu.Lock()
		if s.abandoned {
			f.end()
			return errAbandoned // the machine is no longer this goroutine's to touch
		}
	} else {
		err = callHost(cctx, d.Fn, f.mem, stack)
	}
	f.end()
	m.views.invalidate() // the function's memory view ends with the host call
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// The function gave up because the call's context ended (WASI I/O blocked on the
		// host): that is the call's deadline or cancellation, not the function failing.
		gaveUp := ctxError(ctx)
		m.stop()
		m.hostErr = &HostError{Func: d.ModuleName + "." + d.Name, Err: gaveUp}
		m.fail(gaveUp)
		m.put32(abi.MbHostStatus, 1)
		return nil
	}
	if err != nil {
		return fail(&HostError{Func: d.ModuleName + "." + d.Name, Err: err})
	}
	for i := 0; i < nr; i++ {
		m.put64(abi.MbHostValues+8*i, stack[i])
	}
	m.put32(abi.MbHostStatus, 0)
	return nil
}

// frameMemory checks the memory window the guest reported for a host call and sets f's view
// of it.
func (m *Machine) frameMemory(f *hostFrame, size uint64) error {
	if f.memBase == 0 && size == 0 {
		return nil
	}
	if err := m.checkWindow(f.memBase, size); err != nil {
		return err
	}
	m.views.init(&f.view, m.mem[f.memBase:f.memBase+size:f.memBase+size])
	f.view.grow = f // a nested request for the memory at the view's base (the caller's memory 0)
	f.mem = &f.view
	return nil
}

// end marks the host call over for nested calls made through f afterwards.
func (f *hostFrame) end() {
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

func (f *hostFrame) grow(delta uint32) (api.ByteMemory, uint32, bool) {
	var b api.ByteMemory
	var prev uint32
	var ok bool
	_, err := f.nested(f.callCtx, abi.OpMemoryGrow, abi.MemoryAtBase, delta, []uint64{f.memBase}, 3, func(r []uint64) error {
		b, prev, ok = f.m.grown(r, f.memBase)
		return nil
	})
	if err != nil {
		return nil, 0, false
	}
	return b, prev, ok
}

// errAbandoned: the server's session was given up while a host function ran; the server
// unwinds without touching the machine.
var errAbandoned = errors.New("machine: host call abandoned")

// Host functions that ignore their context, on a call that can end early (a deadline, a
// cancelable context, Close). Such a function must not hold the call past its end, so it cannot
// run on the request's own goroutine; handing each one to another goroutine and waiting costs
// two thread wake-ups per host call. Instead, at the first such host call of a request, the
// rest of the request moves to the machine's server goroutine (handOff), which serves it
// exactly as the request's goroutine would — every later host call inline, exit-less in a hot
// phase, nested calls included — while the request's goroutine waits for the outcome, the
// context or Close: two wake-ups per request, none per host call. If the context ends or the
// machine is closed while the server runs a host function, the request gives the function up:
// the machine stops and is unusable, the function is left to finish (its results are dropped,
// its view is stale, its nested calls fail) and the next hand-off gets a new server.
type serveSession struct {
	// mu is held by the server while it touches the machine; it releases it only while a host
	// function runs. The request's goroutine takes it to give the session up.
	mu        sync.Mutex
	abandoned bool              // under mu: given up; the server must not touch the machine again
	fn        *api.HostFunction // under mu: the host function the server runs (for the error)
	res       chan error        // buffered: the request's outcome, sent under mu
}

// needsServer says whether the host call the guest posted must run off the request's goroutine.
func (m *Machine) needsServer(ctx context.Context) bool {
	if m.sess != nil || ctx.Done() == nil {
		return false // already on the server, or the call cannot end early
	}
	id := m.get32(abi.MbHostFunc)
	return id < uint32(len(m.hostFuncs)) && !m.hostFuncs[id].HonorsContext
}

// handOff moves the rest of the request — the host call the guest posted, then await(ctx,
// done) — to the machine's server goroutine and waits for its outcome, the context or Close.
func (m *Machine) handOff(ctx context.Context, done func(uint32) bool) error {
	s := &serveSession{res: make(chan error, 1)}
	job := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.abandoned {
			return false
		}
		m.sess = s
		err := m.hostCall(ctx)
		if err == nil {
			err = m.await(ctx, done)
		}
		if s.abandoned {
			return false // err is errAbandoned: the machine is someone else's now
		}
		m.sess = nil
		s.res <- err
		return true
	}
	if m.sync {
		// The request's goroutine (locked to its thread by roundTrip) only waits now: unlocked,
		// the server runs on this thread and hands the outcome back without a thread wake-up.
		runtime.UnlockOSThread()
		defer runtime.LockOSThread()
	}
	select {
	case m.server() <- job:
		select {
		case err := <-s.res:
			return err
		case <-ctx.Done():
		case <-m.abort:
		}
	case <-m.abort:
	}
	return m.giveUp(ctx, s)
}

// giveUp ends session s early (its context ended, or Close): if the server is running a host
// function, the function is abandoned and the machine stopped; if the server finished
// meanwhile, its outcome stands.
func (m *Machine) giveUp(ctx context.Context, s *serveSession) error {
	why := ErrClosed
	if !m.aborted() {
		why = ctxError(ctx)
	}
	s.mu.Lock() // the server is in a host function now, or done, or not started
	defer s.mu.Unlock()
	select {
	case err := <-s.res:
		return err
	default:
	}
	s.abandoned = true
	m.sess = nil
	m.srv = nil // that server is left to finish the function; the next hand-off starts another
	m.views.invalidate()
	m.stop()
	if s.fn != nil {
		m.hostErr = &HostError{Func: s.fn.ModuleName + "." + s.fn.Name, Err: why}
	}
	return m.fail(why)
}

// server returns the channel of the machine's server goroutine, starting it if needed. It ends
// with the machine (abort), or after a session that was abandoned.
func (m *Machine) server() chan<- func() bool {
	if m.srv == nil {
		jobs := make(chan func() bool)
		abort := m.abort
		go func() {
			for {
				select {
				case f := <-jobs:
					if !f() {
						return
					}
				case <-abort:
					return
				}
			}
		}()
		m.srv = jobs
	}
	return m.srv
}

// PanicError is a panic in a host function, recovered.
type PanicError = errs.PanicError

// callHost runs a host function, turning a panic into a *PanicError.
func callHost(ctx context.Context, f api.GoFunction, mem api.Memory, stack []uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return f(ctx, mem, stack)
}

// Memory returns a bounded view of instance inst's memory 0 as it is now (nil if it has none).
// The window the guest reports is checked to lie in the guest heap. The view is valid until
// the next call into the guest (which may grow the memory).
func (m *Machine) Memory(ctx context.Context, inst uint32) (api.Memory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	m.request(abi.OpMemory, inst, 0, nil, 0)
	if err := m.roundTrip(ctx); err != nil {
		return nil, err
	}
	if err := m.replyError(); err != nil {
		return nil, err
	}
	r, err := m.results(2)
	if err != nil {
		return nil, err
	}
	mem, err := m.memoryWindow(r[0], r[1])
	if gv, ok := mem.(*guestView); ok {
		base := r[0]
		gv.regen = true
		gv.grow = growFunc(func(delta uint32) (api.ByteMemory, uint32, bool) { return m.growMemory(inst, base, delta, gv) })
	}
	return mem, err
}

// growMemory grows instance inst's memory 0 (at base) for view v of Memory, which must still be
// valid: a request of its own, like memory.grow, between calls.
func (m *Machine) growMemory(inst uint32, base uint64, delta uint32, v *guestView) (api.ByteMemory, uint32, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v.g.mu.RLock()
	stale := v.gen != v.g.gen || v.g.closed
	v.g.mu.RUnlock()
	if stale || m.usable() != nil {
		return nil, 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
	defer cancel()
	m.request(abi.OpMemoryGrow, inst, delta, nil, 0)
	if err := m.roundTrip(ctx); err != nil {
		return nil, 0, false
	}
	if err := m.replyError(); err != nil {
		return nil, 0, false
	}
	r, err := m.results(3)
	if err != nil {
		return nil, 0, false
	}
	return m.grown(r, base)
}

// grown checks an OpMemoryGrow reply for the memory at base (memories grow in place) and
// returns its window now, the previous size in pages and whether it grew.
func (m *Machine) grown(r []uint64, base uint64) (api.ByteMemory, uint32, bool) {
	prev, nb, size := r[0], r[1], r[2]
	heap := abi.XferAddr + m.cfg.XferBytes
	if nb != base || base < heap || size > 1<<32 || size > uint64(len(m.mem)) || base > uint64(len(m.mem))-size ||
		prev > 1<<16 && prev != 0xffffffff {
		m.fail(fmt.Errorf("%w: guest reported a grown memory [%#x, +%#x) (was at %#x), previous size %d",
			ErrGuestFault, nb, size, base, prev))
		return nil, 0, false
	}
	b := api.ByteMemory(m.mem[base : base+size : base+size])
	if prev == 0xffffffff {
		return b, uint32(size / wasmPage), false
	}
	return b, uint32(prev), true
}

// memoryWindow checks a guest-reported memory window and returns a view of it.
func (m *Machine) memoryWindow(base, size uint64) (api.Memory, error) {
	if base == 0 && size == 0 {
		return nil, nil
	}
	if err := m.checkWindow(base, size); err != nil {
		return nil, err
	}
	return m.views.view(m.mem[base : base+size : base+size]), nil
}

// checkWindow checks that a guest-reported memory window lies in the guest heap (failing the
// machine if not).
func (m *Machine) checkWindow(base, size uint64) error {
	heap := abi.XferAddr + m.cfg.XferBytes
	if base < heap || size > uint64(len(m.mem)) || base > uint64(len(m.mem))-size || size > 1<<32 {
		return m.fail(fmt.Errorf("%w: guest reported memory [%#x, +%#x) outside its heap", ErrGuestFault, base, size))
	}
	return nil
}

// ExportResolver maps an export name of the module a machine runs to its export index and
// result slot count, for host functions that call back into the guest.
type ExportResolver func(name string) (index uint32, nresults int, ok bool)

// ErrNestedCall: a host function's call back into the guest could not be made.
var ErrNestedCall = errors.New("machine: nested call into the guest failed")

// The calling instance as a host function sees it (api.CallerFromContext) is its *hostFrame.
// The function runs while its host call holds the machine's lock: on the request's goroutine
// or on the machine's server (handOff).

func (f *hostFrame) Memory() api.Memory { return f.mem }

// Call makes a nested call: the guest, waiting for its host call's results, serves it first.
// It ends when ctx or the served call's context does.
func (f *hostFrame) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	m := f.m
	if m.cfg.Exports == nil {
		return nil, fmt.Errorf("%w: no export resolver (calling %s)", ErrNestedCall, name)
	}
	idx, nres, ok := m.cfg.Exports(name)
	if !ok {
		return nil, fmt.Errorf("%w: no function export %q", ErrNestedCall, name)
	}
	if len(params) > abi.MaxValues || nres > abi.MaxValues {
		return nil, fmt.Errorf("%w: at most %d parameters and results", ErrLimit, abi.MaxValues)
	}
	return f.nested(ctx, abi.OpCall, m.callInst, idx, params, nres, nil)
}

// CallInstance is Call on export exportIndex of any instance of the store (nresults result
// slots): canonical built-ins of components name the instance whose function they call.
func (f *hostFrame) CallInstance(ctx context.Context, inst, exportIndex uint32, nresults int, params ...uint64) ([]uint64, error) {
	if len(params) > abi.MaxValues || nresults > abi.MaxValues || nresults < 0 {
		return nil, fmt.Errorf("%w: at most %d parameters and results", ErrLimit, abi.MaxValues)
	}
	return f.nested(ctx, abi.OpCall, inst, exportIndex, params, nresults, nil)
}

// MemoryOf returns a view of instance inst's memory as it is now, valid until the host call
// ends (nil if it has none): a function called through a table of an instance without memory
// (a component's shim) reads and writes the memory its canonical options name.
func (f *hostFrame) MemoryOf(ctx context.Context, inst uint32) (api.Memory, error) {
	var mem api.Memory
	_, err := f.nested(ctx, abi.OpMemory, inst, 0, nil, 2, func(r []uint64) (err error) {
		mem, err = f.m.memoryWindow(r[0], r[1])
		return err
	})
	return mem, err
}

// nested posts one request while the guest waits in its host call and returns its results
// (then, if set, sees them first, with the machine still held).
func (f *hostFrame) nested(ctx context.Context, op, inst, index uint32, params []uint64, nres int, then func([]uint64) error) ([]uint64, error) {
	m := f.m
	if s := f.sess; s != nil {
		s.mu.Lock() // the function runs on the server: take the machine back for the request
		defer s.mu.Unlock()
		if s.abandoned {
			return nil, fmt.Errorf("%w: the host call this function served has ended", ErrUnusable)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return nil, fmt.Errorf("%w: the host call this function served has ended", ErrUnusable)
	}
	if m.broken != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusable, m.broken)
	}
	if f.callCtx != ctx && f.callCtx.Done() != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(f.callCtx, func() { cancel(context.Cause(f.callCtx)) })
		defer stop()
	}
	// A host function that fails inside the nested call records why in m.hostErr: that belongs
	// to the nested call, whose caller may handle it; the served host call's own record is
	// kept aside meanwhile.
	outer := m.hostErr
	m.hostErr = nil
	r, err := m.nestedRequest(ctx, op, inst, index, params, nres)
	if errors.Is(err, errAbandoned) {
		return nil, fmt.Errorf("%w: the host call this function served has ended", ErrUnusable)
	}
	m.hostErr = outer
	if err == nil && then != nil {
		err = then(r)
	}
	return r, err
}

func (m *Machine) nestedRequest(ctx context.Context, op, inst, index uint32, params []uint64, nres int) ([]uint64, error) {
	m.request(op, inst, index, params, 0)
	if err := m.post(ctx, abi.StateRequest); err != nil {
		return nil, err
	}
	if err := m.await(ctx, nestedDone); err != nil {
		return nil, err
	}
	if err := m.ioDrain(ctx, false); err != nil { // what the nested call batched comes first
		return nil, m.fail(err)
	}
	if err := m.replyError(); err != nil {
		if m.hostErr != nil {
			return nil, m.hostErr // the failed host function's error, not just "host function error"
		}
		return nil, err
	}
	return m.results(nres)
}

func nestedDone(s uint32) bool { return s == abi.StateNestedReply || s == abi.StateNestedParked }
