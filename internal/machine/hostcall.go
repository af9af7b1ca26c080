package machine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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

// serveHostCall runs the host function the guest asked for and writes its results. Everything
// read from the mailbox is checked: the function id, the value counts against the declared
// signature, and the memory window against the guest's heap.
func (m *Machine) serveHostCall(ctx context.Context) {
	status := uint32(1)
	defer func() { m.put32(abi.MbHostStatus, status) }()
	if err := m.ioDrain(ctx, false); err != nil { // the guest's batch goes first, whatever the function
		m.hostErr = err
		return
	}
	id := m.get32(abi.MbHostFunc)
	if id >= uint32(len(m.hostFuncs)) {
		m.hostErr = fmt.Errorf("%w: guest called unknown host function %d", ErrGuestFault, id)
		return
	}
	d := m.hostFuncs[id]
	name := d.ModuleName + "." + d.Name
	np, nr := int(m.get32(abi.MbHostNParams)), int(m.get32(abi.MbHostNResults))
	if np != len(d.ParamTypes) || nr != len(d.ResultTypes) {
		m.hostErr = fmt.Errorf("%w: guest called %s with %d params/%d results", ErrGuestFault, name, np, nr)
		return
	}
	memBase := m.get64(abi.MbHostMemBase) // nested host calls rewrite the host-call area
	mem, err := m.memoryWindow(memBase, m.get64(abi.MbHostMemSize))
	if err != nil {
		m.hostErr = err
		return
	}
	stack := make([]uint64, max(np, nr))
	for i := 0; i < np; i++ {
		stack[i] = m.get64(abi.MbHostValues + 8*i)
	}
	defer m.views.invalidate() // the function's memory view ends with the host call
	hc := &hostCallState{}
	caller := vmCaller{m: m, mem: mem, hc: hc, callCtx: ctx}
	if gv, ok := mem.(*guestView); ok {
		// Grow is a nested request for the memory at the view's base (the caller's memory 0).
		gv.grow = func(delta uint32) (api.ByteMemory, uint32, bool) {
			r, err := caller.nested(ctx, abi.OpMemoryGrow, abi.MemoryAtBase, delta, []uint64{memBase}, 3)
			if err != nil {
				return nil, 0, false
			}
			return m.grown(r, memBase)
		}
	}
	cctx := api.WithCaller(ctx, caller)
	var gaveUp error // why the call ends without the function's answer
	reuse := false   // the function went to the machine's worker
	if ctx.Done() == nil || d.HonorsContext {
		err = callHost(cctx, d.Fn, mem, stack) // it ends with the call: run it here
	} else {
		// A host function that ignores its context must not hold the call past its deadline,
		// nor Close: it runs on a goroutine of its own, which is left to finish on its own if
		// the call ends first (its memory view is invalidated, its results are dropped).
		done := make(chan error, 1)
		run := func() { done <- callHost(cctx, d.Fn, mem, stack) }
		reuse = !m.workerBusy // busy: a nested call of the function the worker runs got here
		if reuse {
			m.workerBusy = true
			m.hostWorker() <- run
		} else {
			go run()
		}
		select {
		case err = <-done:
		case <-ctx.Done():
			gaveUp = ctxError(ctx)
		case <-m.abort:
			gaveUp = ErrClosed
		}
		if reuse && gaveUp == nil {
			m.workerBusy = false
		}
	}
	if gaveUp == nil && err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// The function gave up because the call's context ended (WASI I/O blocked on the
		// host): that is the call's deadline or cancellation, not the function failing.
		gaveUp = ctxError(ctx)
	}
	if gaveUp != nil {
		hc.abandon() // a nested call in progress has finished: the worker's state is ours
		if reuse {
			// The worker is left to finish the abandoned function; the next call gets a new one.
			m.worker, m.workerBusy = nil, false
		}
		m.stop()
		m.hostErr = &HostError{Func: name, Err: gaveUp}
		m.fail(gaveUp)
		return
	}
	if err != nil {
		m.hostErr = &HostError{Func: name, Err: err}
		return
	}
	for i := 0; i < nr; i++ {
		m.put64(abi.MbHostValues+8*i, stack[i])
	}
	status = 0
}

// hostWorker returns the channel of the goroutine that runs host functions which ignore their
// context, starting it if needed: reusing one goroutine saves a goroutine start per host call.
// It ends with the machine (abort), after finishing a function it was given. (The caller
// blocks on a locked thread meanwhile, which costs a thread wake-up each way: unlocking it for
// the wait would be cheaper, but the goroutine that waits cannot always know it is the one
// that locked the thread — a nested call may come from any goroutine.)
func (m *Machine) hostWorker() chan<- func() {
	if m.worker == nil {
		jobs := make(chan func())
		go func() {
			for {
				select {
				case f := <-jobs:
					f()
				case <-m.abort:
					return
				}
			}
		}()
		m.worker = jobs
	}
	return m.worker
}

// hostCallState tells a host function's nested calls whether its host call is still current.
type hostCallState struct {
	mu        sync.Mutex // held by a nested call while it runs
	abandoned bool
}

// abandon ends the host call for its function: a nested call in progress finishes first (it
// ends with the same context, or with Close), later ones fail.
func (h *hostCallState) abandon() {
	h.mu.Lock()
	h.abandoned = true
	h.mu.Unlock()
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
		gv.grow = func(delta uint32) (api.ByteMemory, uint32, bool) { return m.growMemory(inst, base, delta, gv) }
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
	heap := abi.XferAddr + m.cfg.XferBytes
	if base < heap || size > uint64(len(m.mem)) || base > uint64(len(m.mem))-size || size > 1<<32 {
		return nil, m.fail(fmt.Errorf("%w: guest reported memory [%#x, +%#x) outside its heap", ErrGuestFault, base, size))
	}
	return m.views.view(m.mem[base : base+size : base+size]), nil
}

// ExportResolver maps an export name of the module a machine runs to its export index and
// result slot count, for host functions that call back into the guest.
type ExportResolver func(name string) (index uint32, nresults int, ok bool)

// ErrNestedCall: a host function's call back into the guest could not be made.
var ErrNestedCall = errors.New("machine: nested call into the guest failed")

// vmCaller is the calling instance as a host function sees it (api.CallerFromContext). The
// function runs while its host call holds the machine's lock: on that goroutine or, when the
// call has a deadline, on one of its own (serveHostCall).
type vmCaller struct {
	m       *Machine
	mem     api.Memory
	hc      *hostCallState
	callCtx context.Context // the context of the call the host function serves
}

func (c vmCaller) Memory() api.Memory { return c.mem }

// Call makes a nested call: the guest, waiting for its host call's results, serves it first.
// It ends when ctx or the served call's context does.
func (c vmCaller) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	m := c.m
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
	return c.nested(ctx, abi.OpCall, m.callInst, idx, params, nres)
}

// CallInstance is Call on export exportIndex of any instance of the store (nresults result
// slots): canonical built-ins of components name the instance whose function they call.
func (c vmCaller) CallInstance(ctx context.Context, inst, exportIndex uint32, nresults int, params ...uint64) ([]uint64, error) {
	if len(params) > abi.MaxValues || nresults > abi.MaxValues || nresults < 0 {
		return nil, fmt.Errorf("%w: at most %d parameters and results", ErrLimit, abi.MaxValues)
	}
	return c.nested(ctx, abi.OpCall, inst, exportIndex, params, nresults)
}

// MemoryOf returns a view of instance inst's memory as it is now, valid until the host call
// ends (nil if it has none): a function called through a table of an instance without memory
// (a component's shim) reads and writes the memory its canonical options name.
func (c vmCaller) MemoryOf(ctx context.Context, inst uint32) (api.Memory, error) {
	r, err := c.nested(ctx, abi.OpMemory, inst, 0, nil, 2)
	if err != nil {
		return nil, err
	}
	return c.m.memoryWindow(r[0], r[1])
}

// nested posts one request while the guest waits in its host call and returns its results.
func (c vmCaller) nested(ctx context.Context, op, inst, index uint32, params []uint64, nres int) ([]uint64, error) {
	m := c.m
	c.hc.mu.Lock()
	defer c.hc.mu.Unlock()
	if c.hc.abandoned {
		return nil, fmt.Errorf("%w: the host call this function served has ended", ErrUnusable)
	}
	if m.broken != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusable, m.broken)
	}
	if c.callCtx != ctx && c.callCtx.Done() != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(c.callCtx, func() { cancel(context.Cause(c.callCtx)) })
		defer stop()
	}
	// A host function that fails inside the nested call records why in m.hostErr: that belongs
	// to the nested call, whose caller may handle it; the served host call's own record is
	// kept aside meanwhile.
	outer := m.hostErr
	m.hostErr = nil
	defer func() { m.hostErr = outer }()
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
