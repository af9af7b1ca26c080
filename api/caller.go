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

// CallerFromContext returns the instance that called the running host function, if any.
func CallerFromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
