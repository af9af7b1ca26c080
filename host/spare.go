package host

import (
	"context"
	"sync"
)

// spares keeps up to size sandboxes of one module made ahead of time in the background
// (Config.SpareSandboxes), so that NewSandbox hands one out instead of creating a VM on the
// caller's path. Each one taken starts the making of its replacement. Their CPU time is the
// process's like any other (hlwasm bench's cpu/op column shows it); their memory is that of
// as many idle sandboxes in their snapshot state.
type spares struct {
	mod    *Module
	size   int
	ready  chan *Sandbox
	ctx    context.Context // ends with close: makings in flight give up
	cancel context.CancelFunc

	mu       sync.Mutex
	inFlight int
	closed   bool
	wg       sync.WaitGroup
}

func newSpares(m *Module, size int) *spares {
	ctx, cancel := context.WithCancel(context.Background())
	return &spares{mod: m, size: size, ready: make(chan *Sandbox, max(size, 0)), ctx: ctx, cancel: cancel}
}

// take returns a ready spare, or nil, and starts making replacements.
func (s *spares) take() *Sandbox {
	if s.size <= 0 {
		return nil
	}
	var sb *Sandbox
	select {
	case sb = <-s.ready:
	default:
	}
	s.fill()
	return sb
}

// fill starts makings until ready and in-flight sandboxes reach size. A making that fails is
// logged and not retried until the next take.
func (s *spares) fill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.ready)+s.inFlight < s.size {
		s.inFlight++
		s.wg.Add(1)
		go s.make()
	}
}

func (s *spares) make() {
	defer s.wg.Done()
	sb, err := s.mod.newSandbox(s.ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	switch {
	case err != nil:
		if s.ctx.Err() == nil {
			s.mod.rt.log.Warn("hlwasm: making a spare sandbox failed", "err", err)
		}
	case s.closed:
		sb.Close(context.Background())
	default:
		s.ready <- sb // never blocks: ready plus in flight stay within size
	}
}

// close stops the makings, waits for those in flight and closes the ready spares.
func (s *spares) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	for {
		select {
		case sb := <-s.ready:
			sb.Close(context.Background())
		default:
			return
		}
	}
}
