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
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
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
	// Engine, SnapshotKey and MaxModuleBytes are passed to every tenant's host.Runtime.
	Engine         host.Engine
	SnapshotKey    []byte
	MaxModuleBytes uint64
	// Logger gets JSON logs; default slog.New(slog.NewJSONHandler(os.Stderr, nil)).
	Logger *slog.Logger
	// TracerProvider, when set, gets a span per call ("hlwasm.call EXPORT"), a child of the
	// caller's span when the request carries W3C traceparent headers; default noop.
	TracerProvider trace.TracerProvider
	// Registry receives the metrics; default a new registry with the Go and process collectors.
	Registry *prometheus.Registry
}

// tenant is a Tenant's runtime state.
type tenant struct {
	Tenant
	rt    *host.Runtime
	slots chan struct{}
	roots []*os.Root

	mu   sync.Mutex // serializes loads
	mods map[string]*loaded
}

type loaded struct {
	ready chan struct{} // closed when the load is done: then mod or err is set
	mod   *host.Module
	from  string // "snapshot" or "wasm"
	err   error
}

// Server is the HTTP service. Create with New, serve with Serve or Handler, stop with Shutdown.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tracer  trace.Tracer
	store   *store
	tenants map[string]*tenant // by name
	tokens  map[string]*tenant
	noAuth  bool
	metrics *metrics
	reg     *prometheus.Registry
	names   sync.Map // *host.Module → hash, for metrics and spans

	mu       sync.Mutex
	servers  []*http.Server // one per Serve
	closed   sync.Once
	handler  http.Handler
	draining atomic.Bool
	inflight sync.WaitGroup
}

// New opens the store and creates each tenant's runtime. Modules are loaded into a tenant's
// runtime on first use (from their snapshot when there is one).
func New(ctx context.Context, cfg Config) (*Server, error) {
	_ = ctx
	s := &Server{cfg: cfg, log: cfg.Logger, tenants: map[string]*tenant{}, tokens: map[string]*tenant{}}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	s.tracer = tp.Tracer("github.com/hlwasm/hlwasm/serve")
	reg := cfg.Registry
	if reg == nil {
		reg = newRegistry()
	}
	s.metrics, s.reg = newMetrics(reg), reg
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
	for _, tc := range tenants {
		if tc.Name == "" {
			return nil, errors.New("a tenant has no name")
		}
		if _, dup := s.tenants[tc.Name]; dup {
			return nil, fmt.Errorf("tenant %q defined twice", tc.Name)
		}
		t, err := s.newTenant(tc)
		if err != nil {
			s.closeTenants()
			return nil, fmt.Errorf("tenant %q: %w", tc.Name, err)
		}
		s.tenants[tc.Name] = t
		for _, tok := range tc.Tokens {
			if tok == "" {
				continue
			}
			if _, dup := s.tokens[tok]; dup {
				s.closeTenants()
				return nil, fmt.Errorf("a token is given to two tenants")
			}
			s.tokens[tok] = t
		}
	}
	s.metrics.modules.Set(float64(s.store.count()))
	s.handler = s.routes()
	return s, nil
}

func (s *Server) newTenant(tc Tenant) (*tenant, error) {
	tc.applyDefaults()
	t := &tenant{Tenant: tc, slots: make(chan struct{}, tc.MaxConcurrency), mods: map[string]*loaded{}}
	hc := host.Config{
		Engine:           s.cfg.Engine,
		MaxSandboxMemory: tc.MaxMemory,
		MaxModuleBytes:   s.cfg.MaxModuleBytes,
		SnapshotKey:      s.cfg.SnapshotKey,
		PoolSize:         tc.MaxConcurrency,
		CallTimeout:      time.Duration(tc.Timeout),
		Logger:           s.log,
		Observer:         &observer{s: s, tenant: tc.Name},
	}
	if tc.WASI {
		wc := &wasi.Config{}
		for _, p := range tc.Preopens {
			root, err := os.OpenRoot(p.Host)
			if err != nil {
				t.close()
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
		hc.WASI = wc
	}
	rt, err := host.NewRuntime(context.Background(), hc)
	if err != nil {
		t.close()
		return nil, err
	}
	t.rt = rt
	return t, nil
}

func (t *tenant) close() {
	t.mu.Lock()
	mods := t.mods
	t.mods = map[string]*loaded{}
	t.mu.Unlock()
	for _, l := range mods {
		<-l.ready
		if l.mod != nil {
			l.mod.Close(context.Background())
		}
	}
	if t.rt != nil {
		t.rt.Close(context.Background())
	}
	for _, r := range t.roots {
		r.Close()
	}
}

func (s *Server) closeTenants() {
	for _, t := range s.tenants {
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
	l.mod, l.from, l.err = s.load(t, e, wasm)
	if l.err != nil {
		t.mu.Lock()
		if t.mods[hash] == l {
			delete(t.mods, hash) // the next use tries again
		}
		t.mu.Unlock()
	} else {
		s.names.Store(l.mod, hash)
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
			m, err := t.rt.LoadSnapshot(ctx, snap)
			if err == nil {
				return m, "snapshot", nil
			}
			s.log.Warn("snapshot does not load; loading the module instead", "module", e.info.Hash, "err", err)
		}
	}
	if wasm == nil {
		var err error
		if wasm, err = os.ReadFile(e.wasmPath); err != nil {
			return nil, "", err
		}
	}
	m, err := t.rt.LoadModule(ctx, wasm)
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
	for _, t := range s.tenants {
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

// authenticate returns the request's tenant, or writes 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *tenant {
	if s.noAuth {
		return s.tenants["default"]
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hlwasm"`)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing bearer token")
		return nil
	}
	for known, t := range s.tokens { // constant time per token
		if subtle.ConstantTimeCompare([]byte(known), []byte(tok)) == 1 {
			return t
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hlwasm", error="invalid_token"`)
	writeError(w, http.StatusUnauthorized, "unauthenticated", "unknown bearer token")
	return nil
}

// acquire takes one of the tenant's concurrency slots, waiting at most QueueWait.
func (s *Server) acquire(ctx context.Context, t *tenant) bool {
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
	case <-ctx.Done():
	}
	s.metrics.rejected.WithLabelValues(t.Name, "concurrency").Inc()
	return false
}

func (t *tenant) release() { <-t.slots }
