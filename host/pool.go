package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// pool keeps sandboxes of one module in their snapshot state for Module.Call: a call takes a
// ready sandbox, and a background goroutine resets it after the call, off the caller's path.
type pool struct {
	mod   *Module
	size  int
	ready chan *Sandbox
	dirty chan *Sandbox
	live  atomic.Int32
	once  sync.Once
	quit  chan struct{}
	wg    sync.WaitGroup
}

func newPool(m *Module, size int) *pool {
	return &pool{mod: m, size: size, ready: make(chan *Sandbox, size), dirty: make(chan *Sandbox, size),
		quit: make(chan struct{})}
}

// get returns a sandbox in its snapshot state: a ready one, a new one while the pool is below
// its size, or the next one the resetter finishes.
func (p *pool) get(ctx context.Context) (*Sandbox, error) {
	p.once.Do(func() {
		p.wg.Add(1)
		go p.resetter()
	})
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
		return nil, ctxErr(ctx)
	case <-p.quit:
		return nil, ErrClosed
	}
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrDeadline
	}
	return ErrCanceled
}

// put hands a used sandbox to the resetter.
func (p *pool) put(sb *Sandbox) {
	select {
	case p.dirty <- sb:
	case <-p.quit:
		sb.Close(context.Background())
		p.live.Add(-1)
	}
}

func (p *pool) resetter() {
	defer p.wg.Done()
	for {
		select {
		case sb := <-p.dirty:
			if err := sb.Reset(context.Background()); err != nil {
				p.mod.rt.log.Warn("hlwasm: dropping a pooled sandbox that failed to reset", "err", err)
				sb.Close(context.Background())
				p.live.Add(-1)
				continue
			}
			p.ready <- sb
		case <-p.quit:
			return
		}
	}
}

func (p *pool) close() {
	select {
	case <-p.quit:
		return
	default:
	}
	close(p.quit)
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
// after instantiation, which is reset after the call (in the background) before it serves
// another. Nothing one call does — memory, globals, a trap, a timeout — is seen by the next.
// Safe for concurrent use; Config.PoolSize bounds the sandboxes.
func (m *Module) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	if _, ok := m.funcs[name]; !ok {
		return nil, errNoExport(name)
	}
	sb, err := m.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	res, err := sb.Call(ctx, name, params...)
	m.pool.put(sb)
	return res, err
}

// Reset returns the sandbox to its state right after instantiation: memory pages that changed
// are restored from the snapshot taken then, and so is the complete vCPU state. A sandbox that
// trapped, faulted or timed out is usable again afterwards.
func (s *Sandbox) Reset(ctx context.Context) error {
	if s.wasi != nil {
		if err := s.wasi.Reset(*s.mod.rt.cfg.WASI); err != nil {
			return err
		}
	}
	return s.in.reset(ctx)
}
