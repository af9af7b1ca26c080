package host

import (
	"fmt"
	"sync"
)

// A lease is how Module.WithSandbox lends a pooled sandbox to its f: f gets a handle of its own
// (Sandbox.lend), with its own State, that works until f returns. A handle f keeps by mistake
// then fails with ErrClosed instead of reaching the sandbox's next user, its calls or its state;
// WithSandbox waits for calls made through the handle that are still running (on goroutines f
// started) before the sandbox is reset for someone else.
type lease struct {
	mu    sync.Mutex
	idle  sync.Cond // signalled when inUse drops to 0
	over  bool      // f has returned
	inUse int       // methods of the handle running now
}

var errLeaseOver = fmt.Errorf("%w: the sandbox was lent by Module.WithSandbox and its function has returned", ErrClosed)

// lend returns a leased handle of s.
func (s *Sandbox) lend() *Sandbox {
	l := &lease{}
	l.idle.L = &l.mu
	return &Sandbox{mod: s.mod, in: s.in, wasi: s.wasi, linked: s.linked, lease: l}
}

// enter starts a method of a handle (nil: an owned sandbox, always usable).
func (l *lease) enter() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.over {
		return errLeaseOver
	}
	l.inUse++
	return nil
}

// exit ends what enter started.
func (l *lease) exit() {
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.inUse--; l.inUse == 0 && l.over {
		l.idle.Broadcast()
	}
	l.mu.Unlock()
}

// end closes the lease and waits for the handle's running methods.
func (l *lease) end() {
	l.mu.Lock()
	l.over = true
	for l.inUse > 0 {
		l.idle.Wait()
	}
	l.mu.Unlock()
}
