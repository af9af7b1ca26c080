package machine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/errs"
	"github.com/hlwasm/hlwasm/internal/vmm"
	"github.com/hlwasm/hlwasm/wasmguest"
)

// Config sizes one micro-VM. Zero fields take the defaults below.
type Config struct {
	KVM          *vmm.KVM // shared /dev/kvm handle; required
	MaxPages     uint32   // cap on each linear memory, in 64 KiB pages (default 16384 = 1 GiB)
	MaxCallDepth uint32   // Wasm call depth (default 10000)
	XferBytes    uint64   // transfer window for modules and names (default 16 MiB; XferFor sizes it)
	HeapBytes    uint64   // engine heap besides linear memories (default 64 MiB)
	// CodeBytes is the compile tier's code region at the start of the heap, a multiple of
	// 2 MiB up to abi.CodeMax (default 64 MiB). Like the rest of the heap it costs address
	// space only until compiled code fills it.
	CodeBytes   uint64
	MemoryBytes uint64 // total guest memory; default fits the heap and one memory of MaxPages
	// Tier is the engine's execution tier (abi.TierCompiled, the default, or abi.TierInterp).
	// A machine started from a snapshot file keeps the snapshot's engine, tier included.
	Tier      uint32
	GuestSpin time.Duration // how long an idle guest spins on the mailbox before it parks
	// HostSpin is how long a caller spins on the reply before it blocks on the vCPU's exits.
	// Default: 250µs when GuestSpin > 0 (longer than a VM entry on PVM, so a resumed guest is
	// not told to park at once), none otherwise: spinning while a parked guest is resumed
	// slows the resume down (measured: 63µs → 237µs per parked call on PVM). Negative: never.
	HostSpin time.Duration
	// HostCallSpin: on a caller-runs machine, how long a caller in a hot phase spins on the
	// mailbox for the guest's next host call before it lets the guest park (see
	// parkedHostCall). Default 50µs; negative: every host call costs an exit.
	HostCallSpin time.Duration
	// Thread picks who issues KVM_RUN (vmm.ThreadMode; default: the KVM handle's choice). A
	// machine with GuestSpin > 0 always has a dedicated vCPU thread: something must be inside
	// KVM_RUN while its guest spins between calls.
	Thread vmm.ThreadMode
	Image  []byte // guest image (default wasmguest.Image)
	// Exports maps the export names of the module the machine runs, for host functions that
	// call back into the guest (api.Caller.Call); nil disables such calls.
	Exports ExportResolver
	// MemoryBudget caps the guest memory the machine may reach (Usage.MappedBytes): the fixed
	// layout and transfer window plus every 2 MiB heap region — linear memories, tables and
	// engine data alike — charged before the host maps it. A guest that needs more faults with
	// an error wrapping ErrLimit. 0: MemoryBytes.
	MemoryBudget uint64
	// RetainBytes is how much memory beyond the snapshot's a reset keeps mapped (zeroed) for
	// the next call; the rest is released. Default 16 MiB.
	RetainBytes uint64
}

const (
	defaultMaxPages = 16384
	defaultMaxDepth = 10000
	defaultXfer     = 16 << 20
	defaultHeap     = 64 << 20
	// defaultCode is the code region of the compile tier: the first part of the heap (only the
	// pages compiled code fills are ever touched or charged).
	defaultCode         = 64 << 20
	defaultHostSpin     = 250 * time.Microsecond
	defaultHostCallSpin = 50 * time.Microsecond
	defaultRetain       = 16 << 20
	// MaxGuestMemory is the most guest memory the layout can map (abi.PDMoreMax).
	MaxGuestMemory   = (abi.PDMoreMax + 1) << 30
	maxGuestMemory   = MaxGuestMemory
	wasmPage         = 65536
	ctxCheckInterval = 256
)

func (c *Config) fill() error {
	if c.KVM == nil {
		return errors.New("machine: Config.KVM is required")
	}
	if c.MaxPages == 0 {
		c.MaxPages = defaultMaxPages
	}
	if c.MaxPages > 65536 {
		return fmt.Errorf("machine: MaxPages %d exceeds 65536", c.MaxPages)
	}
	if c.MaxCallDepth == 0 {
		c.MaxCallDepth = defaultMaxDepth
	}
	if c.XferBytes == 0 {
		c.XferBytes = defaultXfer
	}
	c.XferBytes = roundUp(c.XferBytes, hugePage)
	if c.HeapBytes == 0 {
		c.HeapBytes = defaultHeap
	}
	c.HeapBytes = roundUp(c.HeapBytes, hugePage)
	if c.CodeBytes == 0 {
		c.CodeBytes = defaultCode
	}
	c.CodeBytes = roundUp(c.CodeBytes, hugePage)
	if c.CodeBytes > abi.CodeMax {
		return fmt.Errorf("%w: code region of %d bytes exceeds the layout's %d", ErrLimit, c.CodeBytes, uint64(abi.CodeMax))
	}
	if c.XferBytes > maxGuestMemory || c.HeapBytes > maxGuestMemory {
		return fmt.Errorf("%w: transfer window %d and heap %d bytes: the guest has at most %d",
			ErrLimit, c.XferBytes, c.HeapBytes, uint64(maxGuestMemory))
	}
	if c.MemoryBytes == 0 {
		c.MemoryBytes = LayoutBytes(c.XferBytes, c.CodeBytes, c.HeapBytes, c.MaxPages)
	}
	c.MemoryBytes = roundUp(c.MemoryBytes, hugePage)
	if c.Tier != abi.TierCompiled && c.Tier != abi.TierInterp {
		return fmt.Errorf("machine: unknown tier %d", c.Tier)
	}
	if c.MemoryBytes < abi.XferAddr+c.XferBytes+c.CodeBytes+hugePage || c.MemoryBytes > maxGuestMemory {
		return fmt.Errorf("%w: guest memory of %d bytes out of range (transfer window %d, code region %d, at most %d in all)",
			ErrLimit, c.MemoryBytes, c.XferBytes, c.CodeBytes, uint64(maxGuestMemory))
	}
	if c.MemoryBudget > 0 && c.MemoryBudget < abi.XferAddr+c.XferBytes+hugePage {
		return fmt.Errorf("%w: memory budget %d bytes is below the %d the layout needs (transfer window %d; host.Config.MaxSandboxMemory, hlwasm --max-sandbox-memory)",
			ErrLimit, c.MemoryBudget, abi.XferAddr+c.XferBytes+hugePage, c.XferBytes)
	}
	if c.RetainBytes == 0 {
		c.RetainBytes = defaultRetain
	}
	if c.HostSpin == 0 && c.GuestSpin > 0 {
		c.HostSpin = defaultHostSpin
	}
	if c.HostCallSpin == 0 {
		c.HostCallSpin = defaultHostCallSpin
	}
	if c.Image == nil {
		c.Image = wasmguest.Image
	}
	return nil
}

func roundUp(v, to uint64) uint64 { return (v + to - 1) / to * to }

// LayoutBytes is the guest memory a machine with these sizes has by default: the fixed layout,
// the transfer window, the code region, the engine heap and one linear memory of maxPages.
func LayoutBytes(xfer, code, heap uint64, maxPages uint32) uint64 {
	return abi.XferAddr + roundUp(xfer, hugePage) + roundUp(code, hugePage) + roundUp(heap, hugePage) +
		uint64(maxPages)*wasmPage
}

// XferFor is the transfer window a module of moduleBytes needs with the host function table
// of defs (which travels with the first Load): both, rounded up to 2 MiB.
func XferFor(moduleBytes uint64, defs []api.HostFunction) uint64 {
	n := moduleBytes
	for _, d := range defs {
		n += uint64(4 + 2 + len(d.ModuleName) + 2 + len(d.Name) + 1 + len(d.ParamTypes) + 1 + len(d.ResultTypes))
	}
	return max(roundUp(n, hugePage), hugePage)
}

// Config is the machine's configuration, defaults filled in.
func (m *Machine) Config() Config { return m.cfg }

// Machine is one booted micro-VM running the guest image. Its methods serialize: one request
// is in flight at a time. After a fault, deadline or protocol violation the machine is unusable
// (every later call returns ErrUnusable); Close releases it.
type Machine struct {
	cfg  Config
	vm   *vmm.VM
	cpu  *vmm.VCPU
	mem  []byte
	mb   []byte // the mailbox page
	xfer []byte // the transfer window

	img          *image
	heapStart    uint64             // first byte of the lazily mapped heap
	mapped       []uint64           // heap regions (2 MiB) mapped so far, in mapping order
	hostFuncs    []api.HostFunction // by id, as declared to the guest
	hostErr      error              // why the last host call failed
	mapErr       error              // why the last first-touch mapping failed
	pendingHost  []byte             // host function table not yet sent (it goes with the next Load)
	pendingCount int
	callInst     uint32 // the instance of the call in progress (host functions' caller)
	scan         pageScanner
	dirtyLogging bool
	lastReset    ResetStats
	release      func() // drops this machine's reference to its snapshot file
	// cpuFeatures: the abi.CPUFeat* bits this machine's guest compiles for (what it reported
	// at boot, or the snapshot file's it started from: the guest keeps what it probed);
	// snapshot files record it.
	cpuFeatures uint32
	fromFile    bool // started from a snapshot file (its guest never booted here)
	gio         *GuestIO

	// abort is closed by Close before it takes mu: a call in progress (a guest that runs on,
	// a host function that blocks) sees it and gives the machine up, so Close never waits for
	// either.
	abort     chan struct{}
	abortOnce sync.Once
	views     viewGuard // validity of the api.Memory views handed out

	// sync: a caller-runs machine (vmm.ThreadCaller): the goroutine that waits for an exit
	// issues KVM_RUN itself. Otherwise runs go to the vCPU's dedicated thread and their exits
	// arrive on its Exits.
	sync bool
	// guestHostCallSpin (TSC cycles) bounds the guest's spin on a host call (MbHostCallSpin).
	guestHostCallSpin uint64

	mu       sync.Mutex
	running  bool // the guest is not stopped at a collected exit: a run is in flight or owed
	inflight bool // a run started by vCPU.Resume whose exit has not been collected
	// entering: the last state was posted by resuming the vCPU, and the guest has not been seen
	// to act on it since (it leaves the state as posted until its next host call or reply).
	entering bool
	// answerParked: post found the guest parked (it stopped spinning for the answer).
	answerParked bool
	// Caller-runs hot phase (see parkedHostCall).
	hot             bool
	hotAfter        int
	hotServed       int
	hotParked       int
	parkedHostCalls int
	hotPhases       uint64
	watch           *kickWatch       // the caller-runs request's deadline watcher
	srv             chan func() bool // the server goroutine's jobs (handOff)
	sess            *serveSession    // the server session running the request now, if any
	hotServedTotal  uint64
	exits           atomic.Uint64         // VM exits so far (Exits), counted by the host
	callKey         uint64                // the export the request calls (exportKey), 0 for other requests
	startHot        [hotStartSlots]uint64 // exportKeys whose last hot phase paid (startsHot)
	booted          bool                  // the first request (which boots the guest) has been posted
	broken          error                 // sticky failure
	closed          bool
}

// New creates a VM, lays out the guest and sets the vCPU's registers for its CPL3 entry. The
// guest boots with the first request: it finds the request posted when it comes up, so a cold
// start costs no extra exit.
func New(ctx context.Context, cfg Config) (*Machine, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	im, err := parseImage(cfg.Image)
	if err != nil {
		return nil, err
	}
	// The first memory slot covers the fixed layout, the transfer window and the start of the
	// heap; chunks beyond are registered when the guest first touches them (serveLazyMap).
	heap := abi.XferAddr + cfg.XferBytes
	// A guest that spins between calls needs a thread inside KVM_RUN between calls: a
	// dedicated one. Otherwise the handle's default (caller-runs where the kernel allows).
	mode := cfg.Thread
	if cfg.GuestSpin > 0 {
		mode = vmm.ThreadDedicated
	}
	vm, err := cfg.KVM.NewVM(cfg.MemoryBytes, roundUp(heap+hugePage, vmm.SlotChunk), mode)
	if err != nil {
		return nil, err
	}
	m := &Machine{cfg: cfg, vm: vm, cpu: vm.VCPU(), mem: vm.Mem(), img: im, abort: make(chan struct{}),
		hotAfter: hotAfterStart}
	m.sync = !m.cpu.Dedicated()
	m.guestHostCallSpin = cyclesFor(cfg.GuestSpin)
	if m.sync && cfg.HostCallSpin > 0 {
		// A spinning host claims a host call within a microsecond; the budget bounds what the
		// guest wastes when its host cannot (busy in a host function, or descheduled: on a
		// loaded machine both threads may share one core).
		m.guestHostCallSpin = cyclesFor(cfg.HostCallSpin / 2)
	}
	m.mb = m.mem[abi.MailboxAddr : abi.MailboxAddr+abi.MailboxSize]
	m.xfer = m.mem[abi.XferAddr : abi.XferAddr+cfg.XferBytes]
	writeLayout(m.mem, im, heap, heap, cfg.CodeBytes)
	m.heapStart = heap
	m.put32(abi.MbMagic, abi.Magic)
	m.put32(abi.MbVersion, abi.Version)
	idleSpin := cfg.GuestSpin
	if m.sync && cfg.HostCallSpin > 0 {
		// A caller-runs guest spins between requests only after a hot call (endHot).
		idleSpin = max(idleSpin, cfg.HostCallSpin)
	}
	m.put64(abi.MbSpinCycles, cyclesFor(idleSpin))
	m.put64(abi.MbCodeAddr, heap)
	m.put64(abi.MbCodeSize, cfg.CodeBytes)
	m.put32(abi.MbTier, cfg.Tier)
	m.put64(abi.MbHeapAddr, heap+cfg.CodeBytes)
	m.put64(abi.MbHeapSize, cfg.MemoryBytes-heap-cfg.CodeBytes)
	m.put64(abi.MbXferAddr, abi.XferAddr)
	m.put64(abi.MbXferSize, cfg.XferBytes)
	m.put32(abi.MbMaxPages, cfg.MaxPages)
	m.put32(abi.MbMaxDepth, cfg.MaxCallDepth)
	if err := m.cpu.EnterUserMode(abi.PML4Addr, abi.GDTAddr, abi.IDTAddr, abi.TSSAddr, abi.TSSLimit,
		im.entry, abi.UStackTop); err != nil {
		vm.Close()
		return nil, err
	}
	return m, nil
}

// Mailbox accessors. The mailbox is shared with a running guest, so the state words are
// accessed atomically; the other fields are ordered by the state transitions.
func (m *Machine) state() *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&m.mb[abi.MbState]))
}
func (m *Machine) waiting() *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&m.mb[abi.MbHostWaiting]))
}
func (m *Machine) put32(off int, v uint32) { binary.LittleEndian.PutUint32(m.mb[off:], v) }
func (m *Machine) put64(off int, v uint64) { binary.LittleEndian.PutUint64(m.mb[off:], v) }
func (m *Machine) get32(off int) uint32    { return binary.LittleEndian.Uint32(m.mb[off:]) }
func (m *Machine) get64(off int) uint64    { return binary.LittleEndian.Uint64(m.mb[off:]) }

// tamperReply, set only by tests, rewrites the mailbox before the host reads a reply.
var tamperReply func(mb []byte)

// Stats are the guest's own counters (untrusted, for diagnostics and benchmarks): requests
// served, parks, and the engine heap's and the code region's bytes handed out so far (their
// high-water marks, updated after each request).
type Stats struct{ Calls, Parks, HeapUsed, CodeUsed, IOLocal uint64 }

// Exits is the number of VM exits the machine has taken: every return of KVM_RUN, whatever its
// reason (a park, a host call, a lazily mapped page, a signal, a fault), counted by the host.
// Safe to call while the machine runs.
func (m *Machine) Exits() uint64 { return m.exits.Load() }

// Stats reads the guest's counters.
func (m *Machine) Stats() Stats {
	return Stats{Calls: m.get64(abi.MbStatCalls), Parks: m.get64(abi.MbStatParks),
		HeapUsed: m.get64(abi.MbStatHeapUsed), CodeUsed: m.get64(abi.MbStatCodeUsed),
		IOLocal: m.get64(abi.MbStatIOLocal)}
}

// Load sends a module to the guest, which parses, validates, links and instantiates it.
func (m *Machine) Load(ctx context.Context, wasm []byte) (uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return 0, err
	}
	table := m.pendingHost
	if uint64(len(table))+uint64(len(wasm)) > uint64(len(m.xfer)) {
		return 0, fmt.Errorf("%w: module is %d bytes, the transfer window %d", ErrLimit, len(wasm), len(m.xfer))
	}
	copy(m.xfer, table)
	copy(m.xfer[len(table):], wasm)
	m.request(abi.OpLoad, 0, uint32(len(table)), nil, uint64(len(table)+len(wasm)))
	m.put32(abi.MbReqNParams, uint32(m.pendingCount))
	m.pendingHost, m.pendingCount = nil, 0
	if err := m.roundTrip(ctx); err != nil {
		return 0, err
	}
	if err := m.replyError(); err != nil {
		return 0, err
	}
	return m.get32(abi.MbRepValue), nil
}

// Register makes instance inst's exports importable by later modules under name.
func (m *Machine) Register(ctx context.Context, inst uint32, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return err
	}
	if len(name) > abi.MsgMax {
		return fmt.Errorf("%w: module name longer than %d bytes", ErrLimit, abi.MsgMax)
	}
	copy(m.xfer, name)
	m.request(abi.OpRegister, inst, 0, nil, uint64(len(name)))
	if err := m.roundTrip(ctx); err != nil {
		return err
	}
	return m.replyError()
}

// Call calls function export exportIndex of instance inst. nresults is the number of result
// slots the caller expects (from the export's signature); a guest that answers otherwise is
// a protocol violation.
func (m *Machine) Call(ctx context.Context, inst, exportIndex uint32, params []uint64, nresults int) ([]uint64, error) {
	if len(params) > abi.MaxValues || nresults > abi.MaxValues || nresults < 0 {
		return nil, fmt.Errorf("%w: at most %d parameters and results", ErrLimit, abi.MaxValues)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	m.request(abi.OpCall, inst, exportIndex, params, 0)
	m.hostErr = nil
	m.callInst = inst
	m.callKey = exportKey(inst, exportIndex)
	defer func() { m.callKey = 0 }()
	if err := m.roundTrip(ctx); err != nil {
		return nil, err
	}
	if err := m.replyError(); err != nil {
		if m.hostErr != nil {
			// A host function failed (or the guest misused one): the call ends with that error
			// and the machine is unusable.
			return nil, m.fail(m.hostErr)
		}
		return nil, err
	}
	return m.results(nresults)
}

// GlobalGet reads global export exportIndex of instance inst (two slots for v128).
func (m *Machine) GlobalGet(ctx context.Context, inst, exportIndex uint32) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	m.request(abi.OpGlobalGet, inst, exportIndex, nil, 0)
	if err := m.roundTrip(ctx); err != nil {
		return nil, err
	}
	if err := m.replyError(); err != nil {
		return nil, err
	}
	n := int(m.get32(abi.MbRepNResults))
	if n != 1 && n != 2 {
		return nil, m.fail(fmt.Errorf("%w: global read returned %d slots", ErrGuestFault, n))
	}
	return m.results(n)
}

// Ping round-trips an empty request (used by benchmarks as the floor of a call).
func (m *Machine) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return err
	}
	m.request(abi.OpNop, 0, 0, nil, 0)
	if err := m.roundTrip(ctx); err != nil {
		return err
	}
	return m.replyError()
}

func (m *Machine) usable() error {
	if m.closed {
		return ErrClosed
	}
	if m.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, m.broken)
	}
	return nil
}

// fail marks the machine unusable with err and returns it.
func (m *Machine) fail(err error) error {
	if m.broken == nil {
		m.broken = err
	}
	return err
}

func (m *Machine) request(op, inst, index uint32, params []uint64, xferLen uint64) {
	m.put32(abi.MbReqOp, op)
	m.put32(abi.MbReqInst, inst)
	m.put32(abi.MbReqIndex, index)
	m.put32(abi.MbReqNParams, uint32(len(params)))
	m.put64(abi.MbReqXferLen, xferLen)
	for i, p := range params {
		m.put64(abi.MbReqParams+8*i, p)
	}
}

// replyError turns a non-OK reply into a *GuestError, copying the message out with its length
// checked: nothing the guest wrote is trusted.
func (m *Machine) replyError() error {
	if tamperReply != nil { // tests: play a compromised guest that writes a bogus reply
		tamperReply(m.mb)
	}
	st := m.get32(abi.MbRepStatus)
	if st == abi.StatusOK {
		return nil
	}
	n := m.get32(abi.MbRepMsgLen)
	if n > abi.MsgMax {
		n = abi.MsgMax
	}
	msg := string(m.mb[abi.MbMsg : abi.MbMsg+int(n)])
	trap := m.get32(abi.MbRepTrap)
	if st > abi.StatusUnsupported || (st == abi.StatusTrap && (trap == abi.TrapNone || trap >= abi.TrapCount)) {
		return m.fail(fmt.Errorf("%w: malformed reply (status %d, trap %d)", ErrGuestFault, st, trap))
	}
	ge := &GuestError{Status: st, Trap: trap, Msg: msg}
	if st == abi.StatusNoMemory {
		ge.HeapBytes = m.cfg.HeapBytes
	}
	return ge
}

func (m *Machine) results(want int) ([]uint64, error) {
	if n := int(m.get32(abi.MbRepNResults)); n != want {
		return nil, m.fail(fmt.Errorf("%w: guest returned %d results, the signature has %d", ErrGuestFault, n, want))
	}
	out := make([]uint64, want)
	for i := range out {
		out[i] = m.get64(abi.MbRepResults + 8*i)
	}
	return out, nil
}

// roundTrip posts the request written to the mailbox and waits for the reply.
//
// If the guest is spinning (state Idle, vCPU inside KVM_RUN) a compare-and-swap to Request hands
// it over without any VM exit. Otherwise the guest is parked or parking: the host collects the
// park exit if it has not yet, sets Request and resumes the vCPU — one exit per call, and no
// register writes. A caller-runs machine issues that KVM_RUN on the caller's OS thread, which
// stays locked for the whole round trip: every exit, and every host function served after one,
// is handled there.
func (m *Machine) roundTrip(ctx context.Context) (err error) {
	if m.gio != nil {
		m.ioPublish(false)
		defer func() {
			if e := m.ioEnd(ctx); e != nil && err == nil {
				err = m.fail(e)
			}
		}()
	}
	if d, ok := ctx.Deadline(); ok {
		// The guest's runs end by themselves at the deadline (vmm.VCPU.SetDeadline), on time
		// however busy Go's scheduler is; a nested request keeps the earlier of the two.
		prev := m.cpu.SetDeadline(d)
		if !prev.IsZero() && prev.Before(d) {
			m.cpu.SetDeadline(prev)
		}
		defer m.cpu.SetDeadline(prev)
	}
	if m.sync {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		m.parkedHostCalls = 0
		if m.startsHot() {
			m.hot, m.hotServed, m.hotParked = true, 0, 0
		}
		defer m.endHot()
		if ctx.Done() != nil && m.watch == nil {
			// One deadline watcher for the whole request, not one per KVM_RUN (an AfterFunc
			// costs four allocations and a lock of the context, per exit).
			w := &kickWatch{done: ctx.Done(), kicked: make(chan struct{})}
			stop := context.AfterFunc(ctx, func() {
				w.fired.Store(true)
				if w.running.Load() {
					m.cpu.Kick()
				}
				close(w.kicked)
			})
			m.watch = w
			defer func() {
				m.watch = nil
				if !stop() {
					<-w.kicked
				}
			}()
		}
	}
	m.views.invalidate() // views are valid until the next request
	m.waiting().Store(m.idleWaiting())
	m.put64(abi.MbHostCallSpin, m.guestHostCallSpin)
	st := m.state()
	if !m.booted {
		m.booted = true
		st.Store(abi.StateRequest)
		m.resume()
		if err := m.await(ctx, idleDone); err != nil {
			return err
		}
		if m.get32(abi.MbGuestReady) != abi.Version {
			return m.fail(fmt.Errorf("%w: guest did not come up", ErrGuestFault))
		}
		return nil
	}
	if err := m.post(ctx, abi.StateRequest); err != nil {
		return err
	}
	return m.await(ctx, idleDone)
}

func idleDone(s uint32) bool { return s == abi.StateIdle || s == abi.StateParked }

// resume lets a guest stopped at an exit run on. With a run in flight (a dedicated vCPU
// thread, or a caller-runs machine in its hot phase) KVM_RUN starts now and its exit arrives on
// the vCPU's Exits; otherwise the run is owed and nextExit issues it on the caller's thread.
func (m *Machine) resume() {
	m.running = true
	m.entering = true
	switch {
	case m.hot:
		// The caller spins on the mailbox while the guest runs: on two CPUs (vmm.ResumeAway).
		m.inflight = true
		m.cpu.ResumeAway(vmm.CurrentCPU())
	case !m.sync:
		m.inflight = true
		m.cpu.Resume()
	}
}

// idleWaiting is MbHostWaiting outside a host's spin: set on a caller-runs machine outside its
// hot phase (the only host thread is inside KVM_RUN, so nobody could answer a spinning guest:
// it parks at once), clear otherwise.
func (m *Machine) idleWaiting() uint32 {
	if m.sync && !m.hot {
		return 1
	}
	return 0
}

// nextExit returns the guest's next exit: that of the run in flight, or that of a KVM_RUN this
// goroutine issues now (caller-runs; a deadline or Close kicks it). A deadline, cancellation or
// Close stops the guest and fails the machine.
func (m *Machine) nextExit(ctx context.Context) (vmm.Exit, error) {
	for m.inflight {
		if errs.Expired(ctx) { // before ctx.Done() may say so (errs.Expired)
			m.stop()
			return vmm.Exit{}, m.fail(ctxError(ctx))
		}
		select {
		case e := <-m.cpu.Exits():
			m.inflight = false
			m.exits.Add(1)
			if !e.Interrupted {
				return e, nil
			}
			// Close kicked the run, or its deadline passed (nobody else kicks a run in flight
			// without collecting its exit): this request's, or, for a run that outlived its
			// request (a guest left spinning), an earlier one's, and then the guest runs on.
			m.cpu.Disarm()
			switch {
			case m.aborted(): // Close's kick
				m.running = false
				return vmm.Exit{}, m.fail(ErrClosed)
			case errs.Expired(ctx):
				m.running = false
				return vmm.Exit{}, m.fail(ctxError(ctx))
			}
			m.resume()
			continue
		case <-ctx.Done():
			m.stop()
			return vmm.Exit{}, m.fail(ctxError(ctx))
		case <-m.abort:
			m.stop()
			return vmm.Exit{}, m.fail(ErrClosed)
		}
	}
	for {
		// Close kicks the vCPU after closing abort (checked below); a deadline kicks it through
		// the request's watcher (roundTrip), or for a nested request with a context of its own
		// through an AfterFunc around this run. A kick that comes after the exit is withdrawn at
		// once, so it cannot interrupt the next run; one that lands before KVM_RUN makes it
		// return at once.
		w := m.watch
		if w != nil && (ctx.Done() == nil || ctx.Done() != w.done) {
			w = nil
		}
		if w != nil {
			// Before the check: either this run sees the context ended, or the watcher sees
			// the run and kicks it.
			w.running.Store(true)
		}
		if m.aborted() || errs.Expired(ctx) {
			if w != nil {
				w.running.Store(false)
			}
			m.stop()
			if m.aborted() {
				return vmm.Exit{}, m.fail(ErrClosed)
			}
			return vmm.Exit{}, m.fail(ctxError(ctx))
		}
		var kicked chan struct{}
		var stop func() bool
		if w == nil && ctx.Done() != nil {
			kicked = make(chan struct{})
			stop = context.AfterFunc(ctx, func() { m.cpu.Kick(); close(kicked) })
		}
		if testHookRun != nil {
			testHookRun()
		}
		e := m.cpu.Run()
		m.exits.Add(1)
		if w != nil {
			w.running.Store(false)
			if w.fired.Load() {
				<-w.kicked // it may be kicking this run: wait, then withdraw the kick
				m.cpu.Disarm()
			}
		}
		if stop != nil && !stop() {
			<-kicked
			m.cpu.Disarm()
		}
		if e.Interrupted {
			m.cpu.Disarm()
			continue // the loop names the cause (or re-enters: the guest is intact)
		}
		return e, nil
	}
}

// kickWatch is a caller-runs request's deadline watcher: when the request's context ends it
// kicks the vCPU if a KVM_RUN of the request is in progress (running), on whichever goroutine
// issues it (the caller's, or the server's after a hand-off). The runner sets running before
// it checks the context and clears it after the run; the watcher sets fired before it reads
// running: so either the runner sees the context ended, or the watcher kicks its run, and a
// runner that sees fired waits for the watcher and withdraws the kick.
type kickWatch struct {
	done    <-chan struct{} // the request's ctx.Done()
	running atomic.Bool
	fired   atomic.Bool
	kicked  chan struct{} // closed when the watcher has finished
}

// testHookRun, set only by tests, runs on the thread that is about to issue a caller-runs
// KVM_RUN.
var testHookRun func()

// post hands the guest a new state: the guest waits for it either spinning on the mailbox (a
// compare-and-swap from the state it waits in; no exit) or parked at an exit (set the state,
// resume the vCPU).
func (m *Machine) post(ctx context.Context, to uint32) error {
	st := m.state()
	for {
		if !m.running {
			st.Store(to)
			m.resume()
			return nil
		}
		switch s := st.Load(); s {
		case abi.StateIdle, abi.StateHostCallClaimed, abi.StateNestedReply:
			if st.CompareAndSwap(s, to) {
				m.entering = false // a spinning guest takes it at once
				return nil
			}
		case abi.StateParked, abi.StateNestedParked:
			m.answerParked = true
			if err := m.collectExit(ctx); err != nil {
				return err
			}
		default:
			return m.fail(fmt.Errorf("%w: cannot post state %d over state %d", ErrGuestFault, to, s))
		}
	}
}

// collectExit waits for the exit of a guest that moved to a parked state: a park or host-call
// port exit is expected; anything else fails the machine.
func (m *Machine) collectExit(ctx context.Context) error {
	for {
		e, err := m.nextExit(ctx)
		if err != nil {
			return err
		}
		if m.serveLazyMap(e) {
			continue
		}
		m.running = false
		if e.Reason == vmm.ExitIO && e.Out && (e.Port == abi.PortPark || e.Port == abi.PortHostCall) {
			return nil
		}
		if err := m.exitError(e); err != nil {
			return m.fail(err)
		}
		return m.fail(fmt.Errorf("%w: unexpected exit %v", ErrGuestFault, e))
	}
}

func (m *Machine) expectPark(e vmm.Exit) error {
	if err := m.exitError(e); err != nil {
		return m.fail(err)
	}
	return nil
}

// spinWindow is how long await spins on the mailbox while the guest runs in flight: HostSpin
// on a dedicated-thread machine, the hot phase's window on a caller-runs one.
func (m *Machine) spinWindow() time.Duration {
	switch {
	case !m.sync:
		return m.cfg.HostSpin
	case m.hot:
		return m.cfg.HostCallSpin
	}
	return 0
}

// await waits until done(state) — the guest's reply — serving the host calls the guest makes
// meanwhile: while the guest runs in flight, first by spinning on the mailbox (the reply of a
// short call, or a host call, arrives in well under a microsecond), then by blocking on the
// vCPU's exits with MbHostWaiting set, which makes the guest park as soon as it has replied;
// on a caller-runs machine outside its hot phase, by running the vCPU on this thread.
func (m *Machine) await(ctx context.Context, done func(uint32) bool) error {
	st := m.state()
	for {
		if window := m.spinWindow(); window > 0 && m.inflight {
			deadline := time.Now().Add(window)
			limit := deadline.Add(max(time.Millisecond, 10*window)) // on waiting for a resume
			quiet, served := false, false
			for i := 1; ; i++ {
				s := st.Load()
				if done(s) {
					return nil
				}
				if s == abi.StateHostCallParked {
					break // the guest gave up waiting: its exit follows
				}
				if s == abi.StateHostCall && st.CompareAndSwap(abi.StateHostCall, abi.StateHostCallClaimed) {
					// Claimed without an exit: the guest spins on the mailbox meanwhile.
					m.entering = false
					if m.needsServer(ctx) {
						m.hotServed++
						return m.handOff(ctx, done)
					}
					m.answerParked = false
					if err := m.hostCall(ctx); err != nil {
						return err
					}
					served = true // the quiet window restarts at the next check (no clock read per host call)
					if !m.answerParked {
						m.hotServed++
						m.hotParked = 0 // the phase pays again: only parks in a row end it
						continue
					}
					// The function outlasted the guest's spin (HostCallSpin/2): the guest parked,
					// and the answer cost its exit and a wake-up of the vCPU's thread, more than
					// serving it after a park exit on this thread would have. Long host calls
					// (WASI I/O of large buffers) end the phase like parks.
					if m.hotParked++; m.hotParked >= hotMaxParked {
						m.leaveHot()
						break
					}
					continue
				}
				if i%ctxCheckInterval == 0 {
					if errs.Expired(ctx) || m.aborted() {
						break
					}
					if m.sync {
						// Let the vCPU's thread have this core if the scheduler put both here
						// (a loaded machine): spinning would keep the guest from answering.
						unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
					}
					now := time.Now()
					if served {
						deadline, limit = now.Add(window), now.Add(window+max(time.Millisecond, 10*window))
						served = false
					}
					if m.entering && (s == abi.StateHostReturn || s == abi.StateRequest) && now.Before(limit) {
						// A resumed guest may not have taken the answer (or the request) yet:
						// its vCPU takes tens of µs to enter on PVM, a woken CPU more. The
						// quiet window starts when it has. (The state stays as posted while
						// the guest computes: after an answer it took from the mailbox the
						// window starts at once.)
						deadline = now.Add(window)
					}
					if now.After(deadline) {
						quiet = true
						break
					}
				}
			}
			if quiet {
				m.leaveHot() // nothing came: the guest parks at its next wait
			}
		}
		if done(st.Load()) {
			return nil // a pending park exit is collected by the next post
		}
		if m.inflight {
			m.waiting().Store(1)
		}
		e, err := m.nextExit(ctx)
		m.waiting().Store(m.idleWaiting())
		if err != nil {
			return err
		}
		if m.serveLazyMap(e) {
			continue
		}
		m.running = false
		s := st.Load()
		if e.Reason == vmm.ExitIO && e.Out && e.Port == abi.PortHostCall {
			switch {
			case s == abi.StateHostCallParked:
				m.parkedHostCall()
				if m.hot {
					// Parked while hot: the spin did not answer in time.
					if m.hotParked++; m.hotParked >= hotMaxParked {
						m.leaveHot()
					}
				}
				if m.needsServer(ctx) {
					return m.handOff(ctx, done)
				}
				if err := m.hostCall(ctx); err != nil {
					return err
				}
				continue
			case done(s):
				return nil
			}
			return m.fail(fmt.Errorf("%w: host-call exit in state %d", ErrGuestFault, s))
		}
		if err := m.expectPark(e); err != nil {
			return err
		}
		if s == abi.StateRequest {
			// A vCPU state restored to its park point re-executes the park `out` once
			// (KVM only skips it when the exit is still pending): resume it.
			m.resume()
			continue
		}
		if !done(s) {
			return m.fail(fmt.Errorf("%w: guest parked in state %d without replying", ErrGuestFault, s))
		}
		return nil
	}
}

// Exit-less host calls on a caller-runs machine. The caller's thread is inside KVM_RUN while
// the guest runs, so nobody polls the mailbox and each host call costs an exit. Once a call has
// made hotAfter host calls through exits, the machine goes hot for the rest of the call: its
// runs go to a goroutine of their own (vCPU.Resume) and the caller spins on the mailbox, serving
// host calls as they come (the guest spins up to guestHostCallSpin on each before parking). The
// hot phase ends when nothing arrives for Config.HostCallSpin, when hotMaxParked host calls
// parked all the same (the guest's spin went unanswered), or with the call. The threshold
// adapts: a hot phase that served fewer than hotMinServed host calls doubles it (up to
// hotAfterMax), one that served more halves it (down to hotAfterMin). The spinning is real CPU
// time on the caller's thread, bounded by HostCallSpin past the last host call.
const (
	hotAfterMin   = 1 // after a phase that paid: the first parked host call of a call goes hot
	hotAfterStart = 2
	hotAfterMax   = 256
	hotMinServed  = 4
	hotMaxParked  = 2 // host calls in a row that park despite a hot phase before it ends
)

// A call of an export whose last call's hot phase paid starts hot: its first run goes to the
// vCPU's goroutine at once and the caller spins from the start, which saves the exit of the
// first host call (the guest does not park on it) for the price of waking the vCPU's thread at
// the start instead of at that host call. A call that then makes no host call costs
// Config.HostCallSpin of spinning and a wake-up more than otherwise, once: its phase serves
// nothing, so the next call of that export starts cold. The table is direct-mapped by export,
// so two exports that share a slot only forget each other.
const hotStartSlots = 16

// exportKey names export exportIndex of instance inst for startHot (never 0).
func exportKey(inst, exportIndex uint32) uint64 { return uint64(inst)<<32 | uint64(exportIndex) + 1 }

func (m *Machine) startsHot() bool {
	k := m.callKey
	return k != 0 && m.cfg.HostCallSpin > 0 && m.startHot[k%hotStartSlots] == k
}

// parkedHostCall counts a host call served after a park exit and goes hot past the threshold.
func (m *Machine) parkedHostCall() {
	if !m.sync || m.cfg.HostCallSpin <= 0 || m.hot {
		return
	}
	m.parkedHostCalls++
	if m.parkedHostCalls >= m.hotAfter {
		m.hot, m.hotServed, m.hotParked = true, 0, 0
		m.waiting().Store(0)
	}
}

// endHot ends the request's hot phase, if any. A phase that paid lingers: the guest, still
// running on the vCPU's goroutine, spins on the mailbox for its idle budget (MbSpinCycles:
// Config.HostCallSpin) before it parks, so that a next call of an export that starts hot
// (startsHot) reaches it through the mailbox, without a wake-up or an exit. Any other request
// sets MbHostWaiting (roundTrip), and the guest parks at once or serves it in flight. The
// spinning is CPU time of the vCPU's thread, at most HostCallSpin per hot call.
func (m *Machine) endHot() {
	if !m.hot {
		return
	}
	linger := m.inflight && m.hotServed >= hotMinServed
	m.stopHot(!linger)
}

// leaveHot ends a hot phase and adapts the threshold to what it served.
func (m *Machine) leaveHot() { m.stopHot(true) }

// stopHot is leaveHot; park false leaves MbHostWaiting clear (endHot).
func (m *Machine) stopHot(park bool) {
	if !m.hot {
		return
	}
	m.hot = false
	if park {
		m.waiting().Store(1)
	}
	m.hotPhases++
	m.hotServedTotal += uint64(m.hotServed)
	m.parkedHostCalls = 0
	paid := m.hotServed >= hotMinServed
	if paid {
		m.hotAfter = max(m.hotAfter/2, hotAfterMin)
	} else {
		m.hotAfter = min(m.hotAfter*2, hotAfterMax)
	}
	if k := m.callKey; k != 0 {
		if paid {
			m.startHot[k%hotStartSlots] = k
		} else if m.startHot[k%hotStartSlots] == k {
			m.startHot[k%hotStartSlots] = 0
		}
	}
}

// HotStats says how a caller-runs machine's exit-less host calls went (for tests and tuning).
type HotStats struct {
	Hot      bool   // in a hot phase now
	HotAfter int    // parked host calls in one call before the next hot phase
	Phases   uint64 // hot phases so far
	Served   uint64 // host calls served without an exit so far
}

// Hot reports the machine's hot-phase state.
func (m *Machine) Hot() HotStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return HotStats{Hot: m.hot, HotAfter: m.hotAfter, Phases: m.hotPhases, Served: m.hotServedTotal}
}

// hostCall serves the host call the guest posted and hands it the results.
func (m *Machine) hostCall(ctx context.Context) error {
	if err := m.serveHostCall(ctx); err != nil {
		return err // abandoned: not ours to touch any more
	}
	m.ioPublish(false)
	if m.broken != nil {
		return m.broken
	}
	return m.post(ctx, abi.StateHostReturn)
}

// ctxError names why ctx ended (errs.FromContext).
func ctxError(ctx context.Context) error {
	return fmt.Errorf("%w: the guest was stopped", errs.FromContext(ctx))
}

// stop interrupts a running vCPU and collects its exit; the guest's state is then undefined,
// so the machine is marked unusable.
func (m *Machine) stop() {
	if !m.running {
		return
	}
	m.interrupt()
	if m.broken == nil {
		m.broken = ErrDeadline
	}
}

func (m *Machine) aborted() bool {
	select {
	case <-m.abort:
		return true
	default:
		return false
	}
}

// interrupt stops the guest: a run in flight is kicked, its exit (the kick's or a normal one
// that won the race) collected and the kick withdrawn, so that it cannot outlive the run it was
// meant for; an owed caller-runs run is simply not issued.
func (m *Machine) interrupt() {
	if m.inflight {
		m.cpu.Kick()
		<-m.cpu.Exits()
		m.exits.Add(1)
		m.cpu.Disarm()
		m.inflight = false
	}
	m.running = false
}

// exitError accepts a park exit and turns every other exit into an error naming it.
func (m *Machine) exitError(e vmm.Exit) error {
	switch {
	case e.Err != nil:
		return fmt.Errorf("%w: %v", ErrGuestFault, e)
	case e.Interrupted:
		return fmt.Errorf("%w: vCPU interrupted", ErrGuestFault)
	case e.Reason == vmm.ExitIO && e.Out && e.Port == abi.PortPark:
		return nil
	case e.Reason == vmm.ExitIO && e.Out && e.Port == abi.PortFault:
		if m.mapErr != nil {
			return fmt.Errorf("%w (%w)", m.faultError(), m.mapErr)
		}
		return m.faultError()
	case e.Reason == vmm.ExitIO && e.Out && e.Port == abi.PortPanic:
		n := min(m.get32(abi.MbRepMsgLen), abi.MsgMax)
		return fmt.Errorf("%w: guest runtime panic: %s", ErrGuestFault, m.mb[abi.MbMsg:abi.MbMsg+int(n)])
	case e.Reason == vmm.ExitShutdown:
		return fmt.Errorf("%w: triple fault (KVM_EXIT_SHUTDOWN)", ErrGuestFault)
	}
	return fmt.Errorf("%w: unexpected exit %v", ErrGuestFault, e)
}

var vectorNames = [32]string{0: "#DE divide error", 1: "#DB debug", 2: "NMI", 3: "#BP breakpoint",
	4: "#OF overflow", 5: "#BR bound range", 6: "#UD invalid opcode", 7: "#NM device not available",
	8: "#DF double fault", 10: "#TS invalid TSS", 11: "#NP segment not present", 12: "#SS stack fault",
	13: "#GP general protection", 14: "#PF page fault", 16: "#MF x87 error", 17: "#AC alignment check",
	18: "#MC machine check", 19: "#XM SIMD exception", 20: "#VE virtualization", 21: "#CP control protection"}

// FaultInfo is the CPU exception that killed a guest, as its CPL0 handler reported it.
type FaultInfo struct {
	Vector, ErrorCode, RIP, CR2, RSP uint64
}

func (f FaultInfo) String() string {
	name := fmt.Sprintf("vector %d", f.Vector)
	if f.Vector < 32 && vectorNames[f.Vector] != "" {
		name = vectorNames[f.Vector]
	}
	s := fmt.Sprintf("%s at rip=%#x error=%#x rsp=%#x", name, f.RIP, f.ErrorCode, f.RSP)
	if f.Vector == 14 {
		s += fmt.Sprintf(" address=%#x", f.CR2)
		if f.CR2 >= abi.UStackGuard && f.CR2 < abi.UStackBase {
			s += " (guest stack overflow)"
		}
	}
	return s
}

// FaultError is a guest CPU exception; errors.Is(err, ErrGuestFault) holds.
type FaultError struct{ Fault FaultInfo }

func (e *FaultError) Error() string { return "guest fault: " + e.Fault.String() }
func (e *FaultError) Unwrap() error { return ErrGuestFault }

// serveLazyMap handles the first touch of an unmapped heap region: a not-present page fault
// from user mode inside the heap. It maps the region, tells the stub to return to the faulting
// instruction and resumes the vCPU. Any other exit is left to the caller.
func (m *Machine) serveLazyMap(e vmm.Exit) bool {
	if e.Reason != vmm.ExitIO || !e.Out || e.Port != abi.PortFault {
		return false
	}
	r := m.mem[abi.FaultAddr : abi.FaultAddr+pageSize]
	g := func(off int) uint64 { return binary.LittleEndian.Uint64(r[off:]) }
	const pfPresent, pfUser = 1, 4
	cr2 := g(abi.FaultCR2)
	if g(abi.FaultValid) != 1 || g(abi.FaultVector) != 14 || g(abi.FaultError)&(pfPresent|pfUser) != pfUser ||
		cr2 < m.heapStart || cr2 >= uint64(len(m.mem)) {
		return false
	}
	region := cr2 &^ (hugePage - 1)
	if slices.Contains(m.mapped, region) {
		return false // a not-present fault in a mapped region: not ours to fix
	}
	if err := m.charge(); err != nil {
		m.mapErr = err // reported with the fault that follows
		return false
	}
	if err := m.vm.AddMemory(region); err != nil {
		m.mapErr = err
		return false
	}
	mapRegion(m.mem, region)
	m.mapped = append(m.mapped, region)
	binary.LittleEndian.PutUint64(r[abi.FaultValid:], 0)
	binary.LittleEndian.PutUint64(r[abi.FaultResume:], 1)
	m.resume()
	return true
}

func (m *Machine) faultError() error {
	r := m.mem[abi.FaultAddr:]
	g := func(off int) uint64 { return binary.LittleEndian.Uint64(r[off:]) }
	if g(abi.FaultValid) != 1 {
		return fmt.Errorf("%w: fault exit without a report", ErrGuestFault)
	}
	return &FaultError{FaultInfo{Vector: g(abi.FaultVector), ErrorCode: g(abi.FaultError),
		RIP: g(abi.FaultRIP), CR2: g(abi.FaultCR2), RSP: g(abi.FaultRSP)}}
}

// Close stops the guest and releases the VM.
func (m *Machine) Close() error {
	m.abortOnce.Do(func() { close(m.abort) })
	// A call in progress may be inside KVM_RUN on its caller's thread: the kick stops it (after
	// abort is closed, so the call sees why), and it gives the machine up.
	m.cpu.Kick()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.views.close() // before the memory goes: a view kept by anyone now fails, never faults
	m.interrupt()
	err := m.vm.Close()
	if m.release != nil {
		m.release()
	}
	return err
}

// Mem exposes guest memory for tests and diagnostics.
func (m *Machine) Mem() []byte { return m.mem }

func defaultImage() []byte { return wasmguest.Image }

// Fault makes the guest raise a CPU exception on purpose (abi.Fault* kinds), for tests of how
// a misbehaving guest is torn down.
func (m *Machine) Fault(ctx context.Context, kind uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return err
	}
	m.request(abi.OpFault, 0, kind, nil, 0)
	if err := m.roundTrip(ctx); err != nil {
		return err
	}
	return m.replyError()
}
