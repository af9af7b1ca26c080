package api

import "context"

// Caller is the instance that called a host function: its memory, and its exports for calls
// back into it during the host call (canonical-ABI lowering needs the guest's cabi_realloc).
type Caller interface {
	Memory() Memory
	// Call calls an export of the calling instance (a nested call).
	Call(ctx context.Context, name string, params ...uint64) ([]uint64, error)
}

type callerKey struct{}

// WithCaller returns ctx carrying the calling instance; engines set it before invoking a host
// function.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerContext is a context carrying a Caller, as WithCaller makes, for engines that embed it
// in the state they keep per host call anyway (it saves WithCaller's allocation): set both
// fields and pass its address.
type CallerContext struct {
	context.Context
	Caller Caller
}

// Value returns the Caller for CallerFromContext's key and asks the parent otherwise.
func (c *CallerContext) Value(key any) any {
	if _, ok := key.(callerKey); ok {
		return c.Caller
	}
	return c.Context.Value(key)
}

// CallerFromContext returns the instance that called the running host function, if any.
func CallerFromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
