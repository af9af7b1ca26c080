package serve

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
)

type metrics struct {
	calls     *prometheus.CounterVec
	exits     *prometheus.CounterVec
	resetDur  *prometheus.HistogramVec
	resetPgs  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	hostCalls *prometheus.CounterVec
	hostDur   *prometheus.HistogramVec
	sandboxes *prometheus.GaugeVec
	inflight  *prometheus.GaugeVec
	rejected  *prometheus.CounterVec
	requests  *prometheus.CounterVec
	modules   prometheus.Gauge

	// Children already looked up: WithLabelValues hashes its labels on every call.
	requestsBy sync.Map // requestKey → prometheus.Counter
	callsBy    sync.Map // callKey → callSeries
	hostsBy    sync.Map // hostKey → callSeries
	exitsBy    sync.Map // exitsKey → prometheus.Counter
}

type exitsKey struct{ tenant, module string }

// moduleName is what the server knows of a loaded module (Server.names).
type moduleName struct{ hash, tenant string }

type hostKey struct{ tenant, function, result string }

type requestKey struct {
	route string
	code  int
}

type callKey struct{ tenant, module, export, outcome, trap string }

type callSeries struct {
	calls    prometheus.Counter
	duration prometheus.Observer
}

// request is the counter of a route's responses with code.
func (m *metrics) request(route string, code int) prometheus.Counter {
	k := requestKey{route, code}
	if c, ok := m.requestsBy.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.requestsBy.LoadOrStore(k, m.requests.WithLabelValues(route, strconv.Itoa(code)))
	return c.(prometheus.Counter)
}

// call is the counter and histogram of calls with these labels.
func (m *metrics) call(k callKey) callSeries {
	if c, ok := m.callsBy.Load(k); ok {
		return c.(callSeries)
	}
	c, _ := m.callsBy.LoadOrStore(k, callSeries{
		calls:    m.calls.WithLabelValues(k.tenant, k.module, k.export, k.outcome, k.trap),
		duration: m.duration.WithLabelValues(k.tenant, k.module, k.export, k.outcome),
	})
	return c.(callSeries)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Buckets from 50 µs (a hot call on PVM is ~100–150 µs) to 10 s.
var callBuckets = prometheus.ExponentialBucketsRange(50e-6, 10, 16)

func newMetrics(reg prometheus.Registerer) *metrics {
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	return &metrics{
		calls: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_calls_total",
			Help: "Calls of exports (and /run's _start) by tenant, module, export, outcome (ok, trap, deadline, canceled, exit, fault, limit, error) and trap kind."},
			[]string{"tenant", "module", "export", "outcome", "trap"})).(*prometheus.CounterVec),
		duration: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hlwasm_call_duration_seconds",
			Help: "Duration of calls, including the wait for a pooled sandbox.", Buckets: callBuckets},
			[]string{"tenant", "module", "export", "outcome"})).(*prometheus.HistogramVec),
		exits: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_vm_exits_total",
			Help: "VM exits taken by calls, by tenant and module (host-counted; 0 on wazero)."},
			[]string{"tenant", "module"})).(*prometheus.CounterVec),
		resetDur: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hlwasm_reset_duration_seconds",
			Help:    "Duration of sandbox resets (pooled sandboxes are reset in the background after each call), by tenant and result (ok, error).",
			Buckets: prometheus.ExponentialBucketsRange(5e-6, 1, 12)}, []string{"tenant", "result"})).(*prometheus.HistogramVec),
		resetPgs: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_reset_pages_total",
			Help: "4 KiB pages sandbox resets restored, cleared or released, by tenant."}, []string{"tenant"})).(*prometheus.CounterVec),
		hostCalls: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_host_calls_total",
			Help: "Host function calls (WASI, hlwasm.log) by function and result."},
			[]string{"tenant", "function", "result"})).(*prometheus.CounterVec),
		hostDur: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hlwasm_host_call_duration_seconds",
			Help: "Duration of host function calls.", Buckets: prometheus.ExponentialBucketsRange(1e-6, 1, 13)},
			[]string{"tenant", "function"})).(*prometheus.HistogramVec),
		sandboxes: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hlwasm_sandboxes",
			Help: "Live sandboxes (micro-VMs), pooled or in use, by tenant."}, []string{"tenant"})).(*prometheus.GaugeVec),
		inflight: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hlwasm_inflight_calls",
			Help: "Calls in flight by tenant."}, []string{"tenant"})).(*prometheus.GaugeVec),
		rejected: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_rejected_total",
			Help: "Requests refused before running, by tenant and reason (concurrency: 429)."},
			[]string{"tenant", "reason"})).(*prometheus.CounterVec),
		requests: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hlwasm_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"})).(*prometheus.CounterVec),
		modules: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "hlwasm_modules",
			Help: "Modules stored (uploaded and read-only)."})).(prometheus.Gauge),
	}
}

// host is the counter and histogram of host calls with these labels.
func (m *metrics) host(k hostKey) callSeries {
	if c, ok := m.hostsBy.Load(k); ok {
		return c.(callSeries)
	}
	c, _ := m.hostsBy.LoadOrStore(k, callSeries{
		calls:    m.hostCalls.WithLabelValues(k.tenant, k.function, k.result),
		duration: m.hostDur.WithLabelValues(k.tenant, k.function),
	})
	return c.(callSeries)
}

// outcome classifies a call's error: the outcome label, and the trap kind's name for traps.
func outcome(err error) (string, string) {
	var trap *host.TrapError
	var exit *api.ExitError
	switch {
	case err == nil:
		return "ok", ""
	case errors.As(err, &trap):
		return "trap", trap.Kind.String()
	case errors.As(err, &exit):
		return "exit", ""
	case errors.Is(err, host.ErrDeadline):
		return "deadline", ""
	case errors.Is(err, host.ErrCanceled):
		return "canceled", ""
	case errors.Is(err, host.ErrLimit): // before faults: a page fault past the budget is both
		return "limit", ""
	case errors.Is(err, host.ErrGuestFault):
		return "fault", ""
	}
	return "error", ""
}

// observer is a tenant runtime's host.Observer: metrics and a span per call.
type observer struct {
	s          *Server
	tenant     string
	inflight   prometheus.Gauge
	resetOK    prometheus.Observer // the tenant's children of the reset metrics, looked up once
	resetErr   prometheus.Observer
	resetPages prometheus.Counter
}

func newObserver(s *Server, tenant string) *observer {
	return &observer{s: s, tenant: tenant, inflight: s.metrics.inflight.WithLabelValues(tenant),
		resetOK: s.metrics.resetDur.WithLabelValues(tenant, "ok"), resetErr: s.metrics.resetDur.WithLabelValues(tenant, "error"),
		resetPages: s.metrics.resetPgs.WithLabelValues(tenant)}
}

func (o *observer) moduleName(m *host.Module) string {
	if v, ok := o.s.names.Load(m); ok {
		return short(v.(moduleName).hash)
	}
	return "unknown"
}

// VMExits and SandboxReset make the observer a host.VMObserver.
func (o *observer) VMExits(ctx context.Context, m *host.Module, export string, n uint64) {
	if n == 0 {
		return
	}
	k := exitsKey{o.tenant, o.moduleName(m)}
	c, ok := o.s.metrics.exitsBy.Load(k)
	if !ok {
		c, _ = o.s.metrics.exitsBy.LoadOrStore(k, o.s.metrics.exits.WithLabelValues(k.tenant, k.module))
	}
	c.(prometheus.Counter).Add(float64(n))
}

func (o *observer) SandboxReset(m *host.Module, d time.Duration, pages int, err error) {
	h := o.resetOK
	if err != nil {
		h = o.resetErr
	}
	h.Observe(d.Seconds())
	o.resetPages.Add(float64(pages))
}

// moduleCollector reports, at each scrape, every loaded module's pooled sandboxes and snapshot
// size (read from the modules themselves: nothing to keep in step).
type moduleCollector struct{ s *Server }

var (
	pooledDesc = prometheus.NewDesc("hlwasm_sandboxes_pooled",
		"Sandboxes reset and ready in a module's pool, by tenant and module.", []string{"tenant", "module"}, nil)
	snapshotDesc = prometheus.NewDesc("hlwasm_snapshot_bytes",
		"Size of the snapshot a module's sandboxes start from and are reset to (kept once per module), by tenant and module.",
		[]string{"tenant", "module"}, nil)
)

func (c *moduleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pooledDesc; ch <- snapshotDesc }

func (c *moduleCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.names.Range(func(k, v any) bool {
		m, n := k.(*host.Module), v.(moduleName)
		ch <- prometheus.MustNewConstMetric(pooledDesc, prometheus.GaugeValue, float64(m.PooledSandboxes()), n.tenant, short(n.hash))
		ch <- prometheus.MustNewConstMetric(snapshotDesc, prometheus.GaugeValue, float64(m.SnapshotBytes()), n.tenant, short(n.hash))
		return true
	})
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func (o *observer) CallStarted(ctx context.Context, m *host.Module, export string) context.Context {
	if o.s.tracing {
		ctx, _ = o.s.tracer.Start(ctx, "hlwasm.call "+export, trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(attribute.String("hlwasm.tenant", o.tenant), attribute.String("hlwasm.module", o.moduleName(m)),
				attribute.String("hlwasm.export", export)))
	}
	o.inflight.Inc()
	return ctx
}

func (o *observer) CallEnded(ctx context.Context, m *host.Module, export string, d time.Duration, err error) {
	o.inflight.Dec()
	out, kind := outcome(err)
	series := o.s.metrics.call(callKey{o.tenant, o.moduleName(m), export, out, kind})
	series.calls.Inc()
	series.duration.Observe(d.Seconds())
	if !o.s.tracing {
		return
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("hlwasm.outcome", out))
	if kind != "" {
		span.SetAttributes(attribute.String("hlwasm.trap", kind))
	}
	if out != "ok" && out != "exit" {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func (o *observer) HostCall(ctx context.Context, module, name string, d time.Duration, err error) {
	fn := module + "." + name
	res := "ok"
	if err != nil {
		res = "error"
		var exit *api.ExitError
		if errors.As(err, &exit) {
			res = "exit_" + strconv.Itoa(int(exit.Code))
			if exit.Code != 0 {
				res = "exit_nonzero"
			}
		}
	}
	series := o.s.metrics.host(hostKey{o.tenant, fn, res})
	series.calls.Inc()
	series.duration.Observe(d.Seconds())
	if o.s.tracing {
		// Reported when the function has returned: the span is made with its real start.
		end := time.Now()
		_, span := o.s.tracer.Start(ctx, "hlwasm.host "+fn, trace.WithTimestamp(end.Add(-d)),
			trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attribute.String("hlwasm.result", res)))
		if res == "error" {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End(trace.WithTimestamp(end))
	}
}

func (o *observer) SandboxCreated(*host.Module) {
	o.s.metrics.sandboxes.WithLabelValues(o.tenant).Inc()
}
func (o *observer) SandboxClosed(*host.Module) { o.s.metrics.sandboxes.WithLabelValues(o.tenant).Dec() }
