// Package serve is hlwasm's HTTP service (hlwasm serve): modules uploaded once, stored
// content-addressed and snapshotted on disk, called with fresh state per request inside KVM
// micro-VMs, with per-tenant limits, Prometheus metrics and OpenTelemetry spans.
package serve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/time/rate"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// Config configures a Server.
type Config struct {
	// DataDir holds uploaded modules and their snapshots; they are reloaded at start. Empty:
	// modules live in memory only.
	DataDir string
	// ModulesDir is a read-only directory whose *.wasm are served to every tenant.
	ModulesDir string
	// Tenants and their tokens and limits. None: one tenant "default" with default limits and
	// no authentication (development only).
	Tenants []Tenant
	// Engine, SnapshotKey, MaxModuleBytes and EngineHeapBytes are passed to every tenant's
	// host.Runtime.
	Engine          host.Engine
	SnapshotKey     []byte
	MaxModuleBytes  uint64
	EngineHeapBytes uint64
	// Logger gets JSON logs; default slog.New(slog.NewJSONHandler(os.Stderr, nil)).
	Logger *slog.Logger
	// TracerProvider, when set, gets a span per call ("hlwasm.call EXPORT"), a child of the
	// caller's span when the request carries W3C traceparent headers; default noop.
	TracerProvider trace.TracerProvider
	// Registry receives the metrics; default a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// BodyTimeout bounds the reading of a request's body (uploads, call arguments, a command's
	// stdin); a slower client gets 408. Default 60 s.
	BodyTimeout time.Duration
}

const defaultBodyTimeout = 60 * time.Second

func (s *Server) bodyTimeout() time.Duration {
	if s.cfg.BodyTimeout > 0 {
		return s.cfg.BodyTimeout
	}
	return defaultBodyTimeout
}

// tenant is a Tenant's runtime state. A reload that changes a tenant's limits replaces its
// state and retires the old one: requests already holding it (enter/leave) finish on it, and
// the last one out closes it.
type tenant struct {
	Tenant
	rt         *host.Runtime                  // modules without a ModuleConfig
	rts        map[string]*host.Runtime       // by hash: modules with their own preopens
	wasiOf     map[*host.Runtime]*wasi.Config // each runtime's WASI configuration (components get it as WASI 0.2)
	slots      chan struct{}
	limiter    *rate.Limiter // nil: no rate limit
	requestEnv map[string]bool
	roots      []*os.Root

	mu    sync.Mutex // serializes loads
	mods  map[string]*loaded
	names *sync.Map // the server's module → hash map, emptied of this tenant's modules on close

	refMu   sync.Mutex
	users   int
	retired bool
	closed  sync.Once
}

// tenantSet is the configuration in force: a reload swaps in a new one.
type tenantSet struct {
	byName map[string]*tenant
	tokens map[string]*tenant
}

type loaded struct {
	ready chan struct{} // closed when the load is done: then mod or err is set
	mod   *host.Module
	from  string // "snapshot" or "wasm"
	err   error
	// A component: its world (calls take and give WAVE values), and for a wasi:cli/command
	// the core export of its run function.
	world *wit.World
	run   string
}

// Server is the HTTP service. Create with New, serve with Serve or Handler, stop with Shutdown.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tracer  trace.Tracer
	tracing bool // a TracerProvider was given: spans for requests and host calls too
	store   *store
	set     atomic.Pointer[tenantSet]
	noAuth  bool
	metrics *metrics
	reg     *prometheus.Registry
	names   sync.Map // *host.Module → moduleName, for metrics and spans

	reloadMu sync.Mutex       // one Reload (or Shutdown's closing) at a time
	retMu    sync.Mutex       // guards retiring
	retiring map[*tenant]bool // retired tenants still in use

	mu       sync.Mutex
	servers  []*http.Server // one per Serve
	closed   sync.Once
	handler  http.Handler
	draining atomic.Bool
	inflight sync.WaitGroup
}

// ErrReload is returned by Reload when the server cannot take a new configuration.
var ErrReload = errors.New("cannot reload tenants")

// New opens the store and creates each tenant's runtime. Modules are loaded into a tenant's
// runtime on first use (from their snapshot when there is one).
func New(ctx context.Context, cfg Config) (*Server, error) {
	_ = ctx
	s := &Server{cfg: cfg, log: cfg.Logger, retiring: map[*tenant]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	_, isNoop := tp.(noop.TracerProvider)
	s.tracing = !isNoop
	s.tracer = tp.Tracer("github.com/hlwasm/hlwasm/serve")
	reg := cfg.Registry
	if reg == nil {
		reg = newRegistry()
	}
	s.metrics, s.reg = newMetrics(reg), reg
	reg.MustRegister(&moduleCollector{s: s})
	var err error
	if s.store, err = openStore(cfg.DataDir, cfg.ModulesDir); err != nil {
		return nil, err
	}
	tenants := cfg.Tenants
	if len(tenants) == 0 {
		s.noAuth = true
		tenants = []Tenant{{Name: "default", WASI: true}}
		s.log.Warn("no tenants configured: authentication is off")
	}
	set, err := s.newSet(tenants, &tenantSet{})
	if err != nil {
		return nil, err
	}
	s.set.Store(set)
	s.metrics.modules.Set(float64(s.store.count()))
	s.handler = s.routes()
	return s, nil
}

// newSet builds the state for a configuration, reusing old's state for tenants whose
// settings other than their tokens are unchanged. On error nothing new is left open.
func (s *Server) newSet(tenants []Tenant, old *tenantSet) (*tenantSet, error) {
	set := &tenantSet{byName: map[string]*tenant{}, tokens: map[string]*tenant{}}
	var created []*tenant
	fail := func(err error) (*tenantSet, error) {
		for _, t := range created {
			t.close()
		}
		return nil, err
	}
	for _, tc := range tenants {
		if err := tc.validate(); err != nil {
			return fail(err)
		}
		if _, dup := set.byName[tc.Name]; dup {
			return fail(fmt.Errorf("%w: tenant %q defined twice", ErrConfig, tc.Name))
		}
		t := old.byName[tc.Name]
		if t == nil || !sameLimits(t.Tenant, tc) {
			var err error
			if t, err = s.newTenant(tc); err != nil {
				return fail(fmt.Errorf("tenant %q: %w", tc.Name, err))
			}
			created = append(created, t)
		}
		set.byName[tc.Name] = t
		for _, tok := range tc.Tokens {
			if tok == "" {
				continue
			}
			if _, dup := set.tokens[tok]; dup {
				return fail(fmt.Errorf("%w: a token is given to two tenants", ErrConfig))
			}
			set.tokens[tok] = t
		}
	}
	return set, nil
}

// sameLimits reports whether two configurations of a tenant differ in their tokens at most.
func sameLimits(a, b Tenant) bool {
	a.applyDefaults()
	b.applyDefaults()
	a.Tokens, b.Tokens = nil, nil
	return reflect.DeepEqual(a, b)
}

// Reload puts a new tenant configuration in force (hlwasm serve does on SIGHUP): tokens are
// replaced at once; a tenant whose limits changed gets a new runtime for its next requests
// while the requests in flight finish on the old one, which is closed after the last; a
// removed tenant's requests in flight finish likewise. On error the old configuration stays.
func (s *Server) Reload(tenants []Tenant) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.noAuth {
		return fmt.Errorf("%w: the server was started without tenants (no authentication)", ErrReload)
	}
	if s.draining.Load() {
		return fmt.Errorf("%w: shutting down", ErrReload)
	}
	if len(tenants) == 0 {
		return fmt.Errorf("%w: no tenants", ErrReload)
	}
	old := s.set.Load()
	set, err := s.newSet(tenants, old)
	if err != nil {
		return err
	}
	s.set.Store(set)
	kept := map[*tenant]bool{}
	for _, t := range set.byName {
		kept[t] = true
	}
	replaced := 0
	for _, t := range old.byName {
		if !kept[t] {
			replaced++
			s.retire(t)
		}
	}
	s.log.Info("tenants reloaded", "tenants", len(set.byName), "retired", replaced)
	return nil
}

// retire closes t once no request uses it (at once if none does).
func (s *Server) retire(t *tenant) {
	t.refMu.Lock()
	t.retired = true
	idle := t.users == 0
	if !idle {
		// Recorded before refMu is released: the last leave, which removes it, comes after.
		s.retMu.Lock()
		s.retiring[t] = true
		s.retMu.Unlock()
	}
	t.refMu.Unlock()
	if idle {
		t.close()
	}
}

// enter marks a request as using t; false if a reload retired t (look the tenant up again).
func (t *tenant) enter() bool {
	t.refMu.Lock()
	defer t.refMu.Unlock()
	if t.retired {
		return false
	}
	t.users++
	return true
}

// leave ends what enter began; the last request on a retired tenant closes it.
func (s *Server) leave(t *tenant) {
	t.refMu.Lock()
	t.users--
	last := t.retired && t.users == 0
	t.refMu.Unlock()
	if last {
		t.close()
		s.retMu.Lock()
		delete(s.retiring, t)
		s.retMu.Unlock()
	}
}

// wasiConfig opens a set of preopens (read-only unless writable).
func (t *tenant) wasiConfig(preopens []Preopen) (*wasi.Config, error) {
	wc := &wasi.Config{Env: t.Env}
	for _, p := range preopens {
		root, err := os.OpenRoot(p.Host)
		if err != nil {
			return nil, fmt.Errorf("preopen %s: %w", p.Host, err)
		}
		t.roots = append(t.roots, root)
		po := wasi.Preopen{GuestPath: p.Guest, FS: root.FS()}
		if p.Guest == "" {
			po.GuestPath = p.Host
		}
		if p.Writable {
			po.FS, po.Writable = wasi.RootFS(root), true
		}
		wc.Preopens = append(wc.Preopens, po)
	}
	return wc, nil
}

func (s *Server) newTenant(tc Tenant) (*tenant, error) {
	tc.applyDefaults()
	t := &tenant{Tenant: tc, slots: make(chan struct{}, tc.MaxConcurrency), mods: map[string]*loaded{},
		rts: map[string]*host.Runtime{}, wasiOf: map[*host.Runtime]*wasi.Config{}, requestEnv: map[string]bool{}, names: &s.names}
	if tc.Rate > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(tc.Rate), tc.Burst)
	}
	for _, n := range tc.RequestEnv {
		t.requestEnv[n] = true
	}
	runtime := func(preopens []Preopen, hostFunctions []string) (*host.Runtime, error) {
		hc := host.Config{
			AllowImports:     hostFunctions,
			Engine:           s.cfg.Engine,
			MaxSandboxMemory: tc.MaxMemory,
			MaxModuleBytes:   s.cfg.MaxModuleBytes,
			EngineHeapBytes:  s.cfg.EngineHeapBytes,
			SnapshotKey:      s.cfg.SnapshotKey,
			PoolSize:         tc.MaxConcurrency,
			CallTimeout:      time.Duration(tc.Timeout),
			Logger:           s.log,
			Observer:         newObserver(s, tc.Name),
		}
		if tc.WASI {
			wc, err := t.wasiConfig(preopens)
			if err != nil {
				return nil, err
			}
			hc.WASI = wc
		}
		rt, err := host.NewRuntime(context.Background(), hc)
		if err == nil {
			t.wasiOf[rt] = hc.WASI
		}
		return rt, err
	}
	var err error
	if t.rt, err = runtime(tc.Preopens, tc.HostFunctions); err != nil {
		t.close()
		return nil, err
	}
	for _, mc := range tc.Modules {
		pre, hf := mc.Preopens, mc.HostFunctions
		if pre == nil {
			pre = tc.Preopens
		}
		if hf == nil {
			hf = tc.HostFunctions
		}
		rt, err := runtime(pre, hf)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("module %s: %w", short(mc.Hash), err)
		}
		t.rts[mc.Hash] = rt
	}
	return t, nil
}

// runtime is the runtime a module runs in: its own if it has a ModuleConfig.
func (t *tenant) runtime(hash string) *host.Runtime {
	if rt, ok := t.rts[hash]; ok {
		return rt
	}
	return t.rt
}

func (t *tenant) close() {
	t.closed.Do(func() {
		t.mu.Lock()
		mods := t.mods
		t.mods = map[string]*loaded{}
		t.mu.Unlock()
		for _, l := range mods {
			<-l.ready
			if l.mod != nil {
				t.names.Delete(l.mod)
				l.mod.Close(context.Background())
			}
		}
		if t.rt != nil {
			t.rt.Close(context.Background())
		}
		for _, rt := range t.rts {
			rt.Close(context.Background())
		}
		for _, r := range t.roots {
			r.Close()
		}
	})
}

// closeTenants closes every tenant's state, retired ones still in use included.
func (s *Server) closeTenants() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	for _, t := range s.set.Load().byName {
		t.close()
	}
	s.retMu.Lock()
	retiring := make([]*tenant, 0, len(s.retiring))
	for t := range s.retiring {
		retiring = append(retiring, t)
	}
	s.retMu.Unlock()
	for _, t := range retiring {
		t.close()
	}
}

// module returns the tenant's loaded instance of a stored module, loading it on first use:
// from its snapshot if there is one (and it loads), else from the .wasm, snapshotting it then.
// Concurrent first uses share one load; other modules' calls do not wait for it.
func (s *Server) module(t *tenant, e *entry, wasm []byte) (*loaded, error) {
	hash := e.info.Hash
	t.mu.Lock()
	if l, ok := t.mods[hash]; ok {
		t.mu.Unlock()
		<-l.ready
		if l.err != nil {
			return nil, l.err
		}
		return l, nil
	}
	l := &loaded{ready: make(chan struct{})}
	t.mods[hash] = l
	t.mu.Unlock()
	if e.info.Component {
		l.err = s.loadComponent(t, e, wasm, l)
	} else {
		l.mod, l.from, l.err = s.load(t, e, wasm)
	}
	if l.err != nil {
		t.mu.Lock()
		if t.mods[hash] == l {
			delete(t.mods, hash) // the next use tries again
		}
		t.mu.Unlock()
	} else {
		s.names.Store(l.mod, moduleName{hash: hash, tenant: t.Name})
	}
	close(l.ready)
	if l.err != nil {
		return nil, l.err
	}
	return l, nil
}

func (s *Server) load(t *tenant, e *entry, wasm []byte) (*host.Module, string, error) {
	ctx := context.Background() // a load is shared by later requests: not bound to this one
	snap := s.store.snapshotPath(e.info.Hash)
	snapshots := snap != "" && s.cfg.Engine == host.EngineMicroVM
	if snapshots {
		if _, err := os.Stat(snap); err == nil {
			m, err := t.runtime(e.info.Hash).LoadSnapshot(ctx, snap)
			if err == nil {
				return m, "snapshot", nil
			}
			s.log.Warn("snapshot does not load; loading the module instead", "module", e.info.Hash, "err", err)
		}
	}
	if wasm == nil {
		var err error
		if wasm, err = e.bytes(); err != nil {
			return nil, "", err
		}
	}
	m, err := t.runtime(e.info.Hash).LoadModule(ctx, wasm)
	if err != nil {
		return nil, "", err
	}
	if snapshots {
		if err := m.SaveSnapshot(ctx, snap); err != nil {
			s.log.Warn("cannot save a snapshot", "module", e.info.Hash, "err", err)
		}
	}
	return m, "wasm", nil
}

// loadComponent loads a component (no snapshot file: a component's sandboxes need its linked
// host, which a snapshot does not carry): WASI 0.2 from the runtime's WASI configuration, no
// other imports (a component importing anything else is refused, naming it).
func (s *Server) loadComponent(t *tenant, e *entry, wasm []byte, l *loaded) error {
	ctx := context.Background() // a load is shared by later requests: not bound to this one
	if wasm == nil {
		var err error
		if wasm, err = e.bytes(); err != nil {
			return err
		}
	}
	rt := t.runtime(e.info.Hash)
	var wc wasi.Config
	if c := t.wasiOf[rt]; c != nil {
		wc = *c
	}
	if e.info.Command {
		c, err := components.LoadCommand(ctx, rt, wasm, wc)
		if err != nil {
			return err
		}
		run, _ := c.Link.RunExport()
		l.mod, l.world, l.run, l.from = c.Module(), c.Link.World, run.Name, "wasm"
		return nil
	}
	r, err := components.LoadComponent(ctx, rt, wasm, wc, nil)
	if err != nil {
		return err
	}
	l.mod, l.world, l.from = r.Module, r.World(), "wasm"
	return nil
}

// drop removes a tenant's instance of a module and closes it once its load is done.
func (s *Server) drop(t *tenant, hash string) {
	t.mu.Lock()
	l, ok := t.mods[hash]
	delete(t.mods, hash)
	t.mu.Unlock()
	if ok {
		<-l.ready
		if l.mod != nil {
			s.names.Delete(l.mod)
			l.mod.Close(context.Background())
		}
	}
}

// unload closes every tenant's instance of a deleted module.
func (s *Server) unload(hash string) {
	for _, t := range s.set.Load().byName {
		s.drop(t, hash)
	}
}

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTP/1.1 and unencrypted HTTP/2 (h2c, prior knowledge) on l, or HTTPS (HTTP/1.1
// and HTTP/2) when certFile and keyFile are given, until Shutdown. It returns
// http.ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener, certFile, keyFile string) error {
	var p http.Protocols
	p.SetHTTP1(true)
	if certFile != "" {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           s.handler,
		Protocols:         &p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	if certFile != "" {
		return srv.ServeTLS(l, certFile, keyFile)
	}
	return srv.Serve(l)
}

// Shutdown stops accepting requests (/readyz answers 503 at once), waits for in-flight
// requests — calls included — to finish until ctx ends, then releases every sandbox and
// runtime. Modules stay on disk for the next start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	servers := s.servers
	s.mu.Unlock()
	var err error
	for _, srv := range servers {
		if e := srv.Shutdown(ctx); e != nil {
			srv.Close()
			err = e
		}
	}
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	s.closed.Do(s.closeTenants)
	return err
}

// authenticate returns the request's tenant, entered (the caller must leave it), or writes 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *tenant {
	for {
		t := s.lookup(w, r)
		if t == nil || t.enter() {
			return t
		}
		// A reload retired t after lookup read the set: the new set is in force already.
	}
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *tenant {
	set := s.set.Load()
	if s.noAuth {
		return set.byName["default"]
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hlwasm"`)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing bearer token")
		return nil
	}
	var found *tenant
	for known, t := range set.tokens { // constant time per token, and no early exit
		if subtle.ConstantTimeCompare([]byte(known), []byte(tok)) == 1 {
			found = t
		}
	}
	if found == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hlwasm", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "unknown bearer token")
	}
	return found
}

// allow takes a token from the tenant's rate limiter, or writes 429 with Retry-After (whole
// seconds until a token is there, at least 1).
func (s *Server) allow(w http.ResponseWriter, t *tenant) bool {
	if t.limiter == nil {
		return true
	}
	now := time.Now()
	res := t.limiter.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		s.metrics.rejected.WithLabelValues(t.Name, "rate").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("tenant %q is limited to %g requests/s (burst %d)", t.Name, t.Rate, t.Burst))
		return false
	}
	return true
}

// acquire takes one of the tenant's concurrency slots, waiting at most QueueWait; otherwise it
// writes 429 (or 499 when the client went away while waiting).
func (s *Server) acquire(w http.ResponseWriter, r *http.Request, t *tenant) bool {
	select {
	case t.slots <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(time.Duration(t.QueueWait))
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
		return true
	case <-timer.C:
		s.metrics.rejected.WithLabelValues(t.Name, "concurrency").Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "concurrency", fmt.Sprintf("tenant %q has %d calls in flight", t.Name, t.MaxConcurrency))
	case <-r.Context().Done():
		writeError(w, 499, "canceled", "the client went away")
	}
	return false
}

func (t *tenant) release() { <-t.slots }
