package host

import (
	"context"
	"time"

	"github.com/hlwasm/hlwasm/api"
)

// Observer receives a Runtime's events, for metrics and tracing (Config.Observer). Its methods
// are called on the calling goroutines, concurrently: they must be safe for concurrent use and
// quick. A nil Observer (the default) costs nothing: no clock reads, no wrapping.
type Observer interface {
	// CallStarted is called when Sandbox.Call or Module.Call begins (Module.Call: before it
	// waits for a pooled sandbox). The context it returns is the call's from then on: host
	// functions receive it and CallEnded gets it back (a tracing span, say).
	CallStarted(ctx context.Context, m *Module, export string) context.Context
	// CallEnded is called when that call returns, with its duration and error (nil, or an
	// error wrapping one of the sentinels; a *TrapError for traps).
	CallEnded(ctx context.Context, m *Module, export string, d time.Duration, err error)
	// HostCall is called after each host function (WASI's included) returns to the guest.
	HostCall(ctx context.Context, module, name string, d time.Duration, err error)
	// SandboxCreated and SandboxClosed follow the sandboxes (VMs) of m, pooled or not.
	SandboxCreated(m *Module)
	SandboxClosed(m *Module)
}

// VMObserver is an optional extension of Observer: an Observer that also implements it receives
// what the micro-VMs do, on the same terms (concurrent calls, quick methods; nothing is measured
// when the Observer does not implement it).
type VMObserver interface {
	// VMExits is called after each call of a sandbox's export (Sandbox.Call, each call of
	// Module.Call, WIT calls' parts) with the VM exits it took (0 on wazero), before CallEnded.
	VMExits(ctx context.Context, m *Module, export string, exits uint64)
	// SandboxReset is called after each reset of a sandbox of m (Sandbox.Reset, and a pooled
	// sandbox's before its next Module.Call or when its pool is idle) with its duration, the 4 KiB pages it
	// restored, cleared or released, and its error.
	SandboxReset(m *Module, d time.Duration, pages int, err error)
}

// observeCall runs call between CallStarted and CallEnded when the runtime has an Observer.
func (m *Module) observeCall(ctx context.Context, name string, call func(context.Context) ([]uint64, error)) ([]uint64, error) {
	o := m.rt.cfg.Observer
	if o == nil {
		return call(ctx)
	}
	start := time.Now()
	ctx = o.CallStarted(ctx, m, name)
	res, err := call(ctx)
	o.CallEnded(ctx, m, name, time.Since(start), err)
	return res, err
}

// observeHost wraps f to report its calls to the runtime's Observer (none: f itself).
func (r *Runtime) observeHost(f api.HostFunction) api.HostFunction {
	o := r.cfg.Observer
	if o == nil || f.Fn == nil {
		return f
	}
	fn, module, name := f.Fn, f.ModuleName, f.Name
	f.Fn = func(ctx context.Context, mem api.Memory, stack []uint64) error {
		start := time.Now()
		err := fn(ctx, mem, stack)
		o.HostCall(ctx, module, name, time.Since(start), err)
		return err
	}
	return f
}

func (r *Runtime) observeHosts(fs []api.HostFunction) []api.HostFunction {
	if r.cfg.Observer == nil {
		return fs
	}
	out := make([]api.HostFunction, len(fs))
	for i, f := range fs {
		out[i] = r.observeHost(f)
	}
	return out
}
