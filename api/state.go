package api

import (
	"context"
	"sync"
)

// State is the host-side state of one instance (a sandbox), for host code that keeps
// per-instance tables: the Canonical ABI's handle tables of exported resources, for one.
// Values are keyed like context values. The host empties it whenever the instance returns to
// its initial state (a sandbox's Reset, and so every fresh-state call), so what a value
// describes never outlives the instance state it belongs to.
//
// Host functions reach the state of the instance that called them with [StateFromContext];
// embedders reach a sandbox's with its State method. Safe for concurrent use.
type State struct {
	mu sync.Mutex
	m  map[any]any
}

// Value returns the value stored under key, first storing make() there if there is none.
func (s *State) Value(key any, make func() any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[key]; ok {
		return v
	}
	if s.m == nil {
		s.m = map[any]any{}
	}
	v := make()
	s.m[key] = v
	return v
}

// Clear drops every value.
func (s *State) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = nil
}

// Stateful is an instance that keeps host-side [State] (host.Sandbox).
type Stateful interface {
	State() *State
}

type stateKey struct{}

// WithState returns ctx carrying the state of the instance a call runs in; hosts set it before
// calling into an instance, so that the host functions it calls find it.
func WithState(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

// StateFromContext returns the state of the instance whose call is running, if the host
// keeps one.
func StateFromContext(ctx context.Context) (*State, bool) {
	s, ok := ctx.Value(stateKey{}).(*State)
	return s, ok && s != nil
}
