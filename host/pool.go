package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlwasm/hlwasm/internal/errs"
)

// pool keeps sandboxes of one module in their snapshot state for Module.Call: a call takes a
// ready sandbox, which is reset in the background after the call, off the caller's path.
type pool struct {
	mod   *Module
	size  int
	ready chan *Sandbox
	live  atomic.Int32
	quit  chan struct{}
	mu    sync.Mutex     // orders put's wg.Add against close
	wg    sync.WaitGroup // background resets
}

func newPool(m *Module, size int) *pool {
	return &pool{mod: m, size: size, ready: make(chan *Sandbox, size), quit: make(chan struct{})}
}

// get returns a sandbox in its snapshot state: a ready one, a new one while the pool is below
// its size, or the next one a background reset finishes.
func (p *pool) get(ctx context.Context) (*Sandbox, error) {
	select {
	case <-p.quit: // the module is closed
		return nil, ErrClosed
	default:
	}
	select {
	case sb := <-p.ready:
		return sb, nil
	default:
	}
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
	case sb := <-p.ready:
		return sb, nil
	case <-ctx.Done():
		return nil, errs.FromContext(ctx)
	case <-p.quit:
		return nil, ErrClosed
	}
}

// put resets a used sandbox in the background (one goroutine per sandbox, so concurrent
// callers' resets run in parallel) and makes it ready again; one that fails to reset is dropped.
func (p *pool) put(sb *Sandbox) {
	p.mu.Lock()
	select {
	case <-p.quit:
		p.mu.Unlock()
		sb.Close(context.Background())
		p.live.Add(-1)
		return
	default:
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		if err := sb.Reset(context.Background()); err != nil {
			if !errors.Is(err, ErrNoSnapshot) { // Config.NoSnapshot: every call gets a new sandbox
				p.mod.rt.log.Warn("hlwasm: dropping a pooled sandbox that failed to reset", "err", err)
			}
			sb.Close(context.Background())
			p.live.Add(-1)
			return
		}
		select {
		case p.ready <- sb:
		case <-p.quit:
			sb.Close(context.Background())
			p.live.Add(-1)
		}
	}()
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
		default:
			return
		}
	}
}

// Call runs an exported function with fresh state: on a pooled sandbox in the state right
// after instantiation, which is reset after the call (in the background) before it serves
// another. Nothing one call does — memory, globals, a trap, a timeout — is seen by the next.
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
	if v, ok := s.in.(*vmInstance); ok && v.snap == nil {
		return ErrNoSnapshot // before the host state is emptied: the sandbox stays as it is
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
	vo := s.mod.rt.vmObs
	if vo == nil {
		_, err := s.in.reset(ctx)
		return err
	}
	start := time.Now()
	pages, err := s.in.reset(ctx)
	vo.SandboxReset(s.mod, time.Since(start), pages, err)
	return err
}

// PooledSandboxes is the number of sandboxes ready in the pool of Module.Call (reset, waiting
// for a call).
func (m *Module) PooledSandboxes() int { return len(m.pool.ready) }

// SnapshotBytes is the size of the snapshot the module's sandboxes start from and are reset
// to, kept once for all of them (0 before the first sandbox has made it, and on wazero).
func (m *Module) SnapshotBytes() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snapFile == nil {
		return 0
	}
	return m.snapFile.DataBytes()
}
