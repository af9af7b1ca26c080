package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlwasm/hlwasm/internal/errs"
)

// pool keeps sandboxes of one module for Module.Call. A call's sandbox goes back dirty: its
// host-side state (api.State, WASI's descriptors, a linked set's) is cleared at once, its VM is
// reset before the sandbox serves another call — by that next call itself, or, if the pool
// stays idle, by a janitor within janitorIdle..2×janitorIdle, so an idle pool's sandboxes do
// not keep a call's pages. A reset off the caller's path would cost a thread wake-up on the
// caller's path instead (a goroutine started per call): ~15 µs of the caller's CPU on PVM, more
// than the reset of a call that dirtied a few pages (~12 µs), measured: fresh calls 96–97 →
// 87–89 µs, CPU 135–150 → 100–104 µs a call, one caller's throughput +19%. A module whose
// resets restore many pages (more than lazyMaxPages, the last reset's count) is reset in the
// background right after each call, as the wake-up then costs less than the reset; so is
// every wazero sandbox (its reset instantiates the module anew).
type pool struct {
	mod   *Module
	size  int
	ready chan *Sandbox // reset, for the next call
	dirty chan *Sandbox // used, host state cleared, VM not yet reset
	live  atomic.Int32
	quit  chan struct{}
	mu    sync.Mutex     // orders put's and the janitor's wg.Add against close
	wg    sync.WaitGroup // background resets and the janitor

	lastPages atomic.Int32 // pages the last reset of a sandbox of the pool restored, cleared or released
	janitorOn atomic.Bool  // a janitor goroutine runs
	lastPut   atomic.Int64 // monotonic ns of the last put
	gap       atomic.Int64 // ns from a put to the next get, smoothed (lazyMaxGap)
}

// monoBase anchors the pool's monotonic clock readings.
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

// lazyMaxPages: resets of more pages than this (~30 µs on PVM) run in the background.
const lazyMaxPages = 32

// lazyMaxGap: a pool whose next call comes later than this after a put (a server: the caller
// answers its client between calls) resets in the background. The reset then runs while the
// caller is away, and the wake-up is cheap there (other threads are awake); a reset on the next
// call's path would also run inside a request handler, where each system call longer than the
// scheduler's 20 µs tick risks a hand-off of its P (measured over HTTP: +25 µs a request).
const lazyMaxGap = 20 * time.Microsecond

// janitorIdle is how often the janitor resets the pool's dirty sandboxes.
const janitorIdle = 10 * time.Millisecond

func newPool(m *Module, size int) *pool {
	return &pool{mod: m, size: size, ready: make(chan *Sandbox, size), dirty: make(chan *Sandbox, size), quit: make(chan struct{})}
}

// get returns a sandbox in its snapshot state: a ready one, a dirty one it resets, a new one
// while the pool is below its size, or the next one another call or a background reset gives
// back.
func (p *pool) get(ctx context.Context) (*Sandbox, error) {
	for {
		select {
		case <-p.quit: // the module is closed
			return nil, ErrClosed
		default:
		}
		if last := p.lastPut.Load(); last != 0 {
			gap := monoNow() - last
			p.gap.Store((3*p.gap.Load() + gap) / 4)
		}
		var sb *Sandbox
		select {
		case sb = <-p.ready:
			return sb, nil
		case sb = <-p.dirty:
		default:
			if n := p.live.Add(1); int(n) <= p.size {
				sb, err := p.mod.newSandbox(ctx)
				if err != nil {
					p.live.Add(-1)
					return nil, err
				}
				return sb, nil
			}
			p.live.Add(-1)
			select {
			case sb = <-p.ready:
				return sb, nil
			case sb = <-p.dirty:
			case <-ctx.Done():
				return nil, errs.FromContext(ctx)
			case <-p.quit:
				return nil, ErrClosed
			}
		}
		if p.resetForCall(ctx, sb) {
			return sb, nil
		}
		if ctx.Err() != nil {
			return nil, errs.FromContext(ctx)
		}
	}
}

// resetForCall resets a dirty sandbox's VM for the call that took it; one that fails to reset
// is dropped (false).
func (p *pool) resetForCall(ctx context.Context, sb *Sandbox) bool {
	if err := p.resetVM(ctx, sb); err != nil {
		p.drop(sb, err)
		return false
	}
	return true
}

func (p *pool) resetVM(ctx context.Context, sb *Sandbox) error {
	pages, err := sb.resetVM(ctx)
	if err == nil {
		p.lastPages.Store(int32(min(pages, 1<<30)))
	}
	return err
}

// drop closes a sandbox that failed to reset.
func (p *pool) drop(sb *Sandbox, err error) {
	if !errors.Is(err, ErrNoSnapshot) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		// Config.NoSnapshot: every call gets a new sandbox; a call's own deadline: not the sandbox's fault
		p.mod.rt.log.Warn("hlwasm: dropping a pooled sandbox that failed to reset", "err", err)
	}
	sb.Close(context.Background())
	p.live.Add(-1)
}

// put takes a used sandbox back: its host state is cleared now, its VM reset later (see pool);
// one that fails to clear is dropped.
func (p *pool) put(sb *Sandbox) {
	p.lastPut.Store(monoNow())
	if err := sb.resetHost(); err != nil {
		p.drop(sb, err)
		return
	}
	// Under mu, so that close either sees what put hands on (its wait group, or the dirty
	// channel it drains after) or put sees the pool closed.
	p.mu.Lock()
	select {
	case <-p.quit:
		p.mu.Unlock()
		sb.Close(context.Background())
		p.live.Add(-1)
		return
	default:
	}
	if p.mod.rt.cfg.Engine == EngineWazero || p.lastPages.Load() > lazyMaxPages || p.gap.Load() > int64(lazyMaxGap) {
		// wazero's reset instantiates the module anew: not for the next call's path.
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			p.resetIdle(sb)
		}()
		return
	}
	p.dirty <- sb // never blocks: at most size sandboxes live
	p.mu.Unlock()
	p.startJanitor()
}

// resetIdle resets a dirty sandbox's VM off any call's path (put's background reset, the
// janitor) and makes it ready.
func (p *pool) resetIdle(sb *Sandbox) {
	if err := p.resetVM(context.Background(), sb); err != nil {
		p.drop(sb, err)
		return
	}
	select {
	case p.ready <- sb:
	case <-p.quit:
		sb.Close(context.Background())
		p.live.Add(-1)
	}
}

// startJanitor starts the pool's janitor unless it runs: it resets the dirty sandboxes the
// pool still has every janitorIdle, and ends after a round that found none.
func (p *pool) startJanitor() {
	if p.janitorOn.Load() || !p.janitorOn.CompareAndSwap(false, true) {
		return
	}
	p.mu.Lock()
	select {
	case <-p.quit:
		p.mu.Unlock()
		p.janitorOn.Store(false)
		return
	default:
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.janitor()
}

func (p *pool) janitor() {
	defer p.wg.Done()
	t := time.NewTimer(janitorIdle)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.quit:
			p.janitorOn.Store(false)
			return
		}
		found := false
		for drained := false; !drained; {
			select {
			case sb := <-p.dirty:
				found = true
				p.resetIdle(sb)
			default:
				drained = true
			}
		}
		if !found {
			p.janitorOn.Store(false)
			// A put between the last look and the flag going down found the janitor on.
			if len(p.dirty) == 0 || !p.janitorOn.CompareAndSwap(false, true) {
				return
			}
		}
		t.Reset(janitorIdle)
	}
}

func (p *pool) close() {
	p.mu.Lock()
	select {
	case <-p.quit:
		p.mu.Unlock()
		return
	default:
	}
	close(p.quit)
	p.mu.Unlock()
	p.wg.Wait()
	for {
		select {
		case sb := <-p.ready:
			sb.Close(context.Background())
		case sb := <-p.dirty:
			sb.Close(context.Background())
		default:
			return
		}
	}
}

// Call runs an exported function with fresh state: on a pooled sandbox in the state right
// after instantiation, which is reset after the call (its host state at once, its VM before
// it serves another call or when the pool is idle: see pool). Nothing one call does — memory, globals, a trap, a timeout — is seen by the next.
// Safe for concurrent use; Config.PoolSize bounds the sandboxes.
func (m *Module) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	if _, ok := m.funcs[name]; !ok {
		return nil, errNoExport(name)
	}
	ctx, cancel := bounded(ctx, m.rt.cfg.CallTimeout)
	defer cancel()
	if m.rt.cfg.Observer == nil {
		return m.pooledCall(ctx, name, params)
	}
	return m.observeCall(ctx, name, func(ctx context.Context) ([]uint64, error) { return m.pooledCall(ctx, name, params) })
}

// WithSandbox runs f on a pooled sandbox in its fresh state, as Call runs one export, for work
// that needs several calls on one instance (a WIT call: cabi_realloc, the export, its
// cabi_post_), and resets the sandbox afterwards, whatever f did. name is what observers see
// as the export called. sb is a handle that works until f returns (later it fails with
// ErrClosed; WithSandbox waits for calls through it still running on goroutines f started), with
// a State of its own; it cannot be closed. The call's deadline (Config.CallTimeout without
// one) bounds f's calls.
func (m *Module) WithSandbox(ctx context.Context, name string, f func(ctx context.Context, sb *Sandbox) error) error {
	ctx, cancel := bounded(ctx, m.rt.cfg.CallTimeout)
	defer cancel()
	_, err := m.observeCall(ctx, name, func(ctx context.Context) ([]uint64, error) {
		sb, err := m.pool.get(ctx)
		if err != nil {
			return nil, err
		}
		defer m.pool.put(sb)
		lent := sb.lend()
		defer lent.lease.end() // before put: no call through the handle runs past this
		return nil, f(ctx, lent)
	})
	return err
}

func (m *Module) pooledCall(ctx context.Context, name string, params []uint64) ([]uint64, error) {
	sb, err := m.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	res, err := sb.call(ctx, name, params)
	m.pool.put(sb)
	return res, err
}

// Reset returns the sandbox to its state right after instantiation: memory pages that changed
// are restored from the snapshot taken then, and so is the complete vCPU state. A sandbox that
// trapped, faulted or timed out is usable again afterwards. Its host-side State is emptied.
func (s *Sandbox) Reset(ctx context.Context) error {
	if err := s.lease.enter(); err != nil {
		return err
	}
	defer s.lease.exit()
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.resetHost(); err != nil {
		return err
	}
	_, err := s.resetVM(ctx)
	return err
}

// resetHost is Reset's host half: the sandbox's State, WASI state and linked host state.
// Without a snapshot (Config.NoSnapshot) it refuses first, leaving the sandbox as it is.
func (s *Sandbox) resetHost() error {
	if v, ok := s.in.(*vmInstance); ok && v.snap == nil {
		return ErrNoSnapshot
	}
	s.state.Clear()
	if s.wasi != nil {
		if err := s.wasi.Reset(*s.mod.rt.cfg.WASI); err != nil {
			return err
		}
	}
	if s.linked != nil {
		if err := s.linked.Reset(); err != nil {
			return err
		}
	}
	return nil
}

// resetVM is Reset's engine half (the VM's memory and vCPU, or a new wazero instance): the
// pages it restored, cleared or released.
func (s *Sandbox) resetVM(ctx context.Context) (int, error) {
	vo := s.mod.rt.vmObs
	if vo == nil {
		return s.in.reset(ctx)
	}
	start := time.Now()
	pages, err := s.in.reset(ctx)
	vo.SandboxReset(s.mod, time.Since(start), pages, err)
	return pages, err
}

// PooledSandboxes is the number of sandboxes ready in the pool of Module.Call (reset, waiting
// for a call).
func (m *Module) PooledSandboxes() int { return len(m.pool.ready) }

// SnapshotBytes is the size of the snapshot the module's sandboxes start from and are reset
// to, kept once for all of them (0 before the first sandbox has made it, on wazero, and after
// Close).
func (m *Module) SnapshotBytes() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snapFile == nil || m.closed {
		return 0
	}
	return m.snapFile.DataBytes()
}
