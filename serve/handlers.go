package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// TimeoutHeader asks for a shorter deadline than the tenant's (a Go duration, "250ms"); the
// query parameter "timeout" does the same.
const TimeoutHeader = "Hlwasm-Timeout"

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/healthz", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}},
		{"GET", "/readyz", func(w http.ResponseWriter, r *http.Request) {
			if s.draining.Load() {
				writeError(w, http.StatusServiceUnavailable, "draining", "shutting down")
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		}},
		{"GET", "/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP},
		{"POST", "/v1/modules", s.withTenant(s.upload)},
		{"GET", "/v1/modules", s.withTenant(s.list)},
		{"GET", "/v1/modules/{hash}", s.withTenant(s.get)},
		{"DELETE", "/v1/modules/{hash}", s.withTenant(s.delete)},
		{"POST", "/v1/modules/{hash}/call/{export}", s.withTenant(s.call)},
		{"POST", "/v1/modules/{hash}/run", s.withTenant(s.run)},
	}
	// What the mux would refuse in plain text gets the API's JSON errors: each path also has a
	// pattern without a method (less specific, so only other methods reach it) answering 405,
	// and "/" answers 404. (Asking the mux first and routing again cost a second match per call.)
	allow := map[string][]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+rt.path, rt.h)
		allow[rt.path] = append(allow[rt.path], rt.method)
		if rt.method == "GET" {
			allow[rt.path] = append(allow[rt.path], "HEAD")
		}
	}
	for path, methods := range allow {
		list := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", list)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return s.logged(mux)
}

// recorder remembers the status code for logs and metrics.
type recorder struct {
	http.ResponseWriter
	code  int
	attrs []slog.Attr
}

// Unwrap lets http.ResponseController reach the connection (read deadlines, flushes).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// note adds attributes to the request's log line (w is the recorder logged passed down).
func note(w http.ResponseWriter, attrs ...slog.Attr) {
	if rec, ok := w.(*recorder); ok {
		rec.attrs = append(rec.attrs, attrs...)
	}
}

func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		api := strings.HasPrefix(r.URL.Path, "/v1/")
		var span trace.Span
		if api && s.tracing {
			// Named by its route once the mux has matched it (a span's name must not hold
			// the path's hashes).
			ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span = s.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
			r = r.WithContext(ctx)
		}
		if api {
			if s.draining.Load() {
				writeError(rec, http.StatusServiceUnavailable, "draining", "shutting down")
				if span != nil {
					span.SetStatus(codes.Error, "draining")
					span.End()
				}
				return
			}
			s.inflight.Add(1)
			defer s.inflight.Done()
		}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if !strings.Contains(route, " ") { // the 404 and 405 fallbacks
			route = "unmatched"
		}
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		if span != nil {
			span.SetName(route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", rec.code))
			if rec.code >= 500 {
				span.SetStatus(codes.Error, http.StatusText(rec.code))
			}
			span.End()
		}
		s.metrics.request(route, rec.code).Inc()
		if route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz" || !s.log.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		attrs := append([]slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.code), slog.Duration("duration", time.Since(start)), slog.String("proto", r.Proto)}, rec.attrs...)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

func (s *Server) withTenant(h func(http.ResponseWriter, *http.Request, *tenant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := s.authenticate(w, r)
		if t == nil {
			return
		}
		defer s.leave(t)
		note(w, slog.String("tenant", t.Name))
		if !s.allow(w, t) {
			return
		}
		h(w, r, t)
	}
}

// readBody reads the request body up to limit bytes (beyond it, 413) within the server's
// BodyTimeout (beyond it, 408): a client that sends its body slowly or stops mid-way holds a
// goroutine and a connection, never longer than that, and never a concurrency slot (bodies are
// read before one is taken).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyTimeout())); err != nil {
		s.log.Debug("no read deadline for the request body", slog.Any("err", err))
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
			writeError(w, http.StatusRequestTimeout, "body_timeout",
				fmt.Sprintf("request body not received within %v (the server's body timeout)", s.bodyTimeout()))
		default:
			writeError(w, http.StatusBadRequest, "bad_body", err.Error())
		}
		return nil, false
	}
	return b, true
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, t *tenant) {
	wasm, ok := s.readBody(w, r, t.MaxRequestBytes)
	if !ok {
		return
	}
	if s.cfg.MaxModuleBytes > 0 && uint64(len(wasm)) > s.cfg.MaxModuleBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("module exceeds %d bytes", s.cfg.MaxModuleBytes))
		return
	}
	hash := hashOf(wasm)
	note(w, slog.String("module", hash))
	info, err := describe(hash, wasm)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_module", err.Error())
		return
	}
	if info.WASI && !t.WASI {
		writeError(w, http.StatusForbidden, "wasi_not_allowed", "this tenant may not use WASI modules")
		return
	}
	// Validate by loading (in a VM) before anything is stored; the loaded module is kept.
	e := &entry{info: info}
	if _, err := s.module(t, e, wasm); err != nil {
		s.writeLoadError(w, err)
		return
	}
	info, created, err := s.store.add(t.Name, info, wasm)
	if err != nil {
		s.drop(t, hash)
		s.serverError(w, r, err)
		return
	}
	s.metrics.modules.Set(float64(s.store.count()))
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, info)
}

func (s *Server) writeLoadError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, host.ErrInvalidModule), errors.Is(err, components.ErrMalformed), errors.Is(err, components.ErrUnsupported):
		writeError(w, http.StatusBadRequest, "invalid_module", err.Error())
	case errors.Is(err, wit.ErrUnbound):
		writeError(w, http.StatusUnprocessableEntity, "import_not_allowed", err.Error()+" (components get WASI 0.2 only)")
	case errors.Is(err, host.ErrImportNotAllowed):
		writeError(w, http.StatusUnprocessableEntity, "import_not_allowed", err.Error())
	case errors.Is(err, host.ErrLimit):
		writeError(w, http.StatusUnprocessableEntity, "limit", err.Error())
	case errors.Is(err, host.ErrTrap), errors.Is(err, host.ErrDeadline), errors.Is(err, host.ErrGuestFault):
		// the start function (or _initialize) failed: the module's own fault
		writeError(w, http.StatusUnprocessableEntity, "instantiation_failed", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, t *tenant) {
	mods, err := s.store.list(t.Name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"modules": mods})
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, t *tenant) {
	e, ok := s.store.get(r.PathValue("hash"), t.Name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_module", "no such module")
		return
	}
	writeJSON(w, http.StatusOK, e.info)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, t *tenant) {
	hash := r.PathValue("hash")
	e, ok := s.store.get(hash, t.Name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_module", "no such module")
		return
	}
	if e.info.ReadOnly {
		writeError(w, http.StatusForbidden, "read_only", "the module is served from the read-only modules directory")
		return
	}
	gone, err := s.store.remove(hash, t.Name)
	if err != nil && !errors.Is(err, errNotFound) {
		s.serverError(w, r, err)
		return
	}
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, "unknown_module", "no such module")
		return
	}
	if gone {
		s.unload(hash)
	} else {
		s.drop(t, hash)
	}
	s.metrics.modules.Set(float64(s.store.count()))
	w.WriteHeader(http.StatusNoContent)
}

// deadline is the request's timeout: the tenant's, or less if the request asks.
func deadline(r *http.Request, t *tenant) (time.Duration, error) {
	max := time.Duration(t.Timeout)
	v := r.Header.Get(TimeoutHeader)
	if q := r.URL.Query().Get("timeout"); q != "" {
		v = q
	}
	if v == "" {
		return max, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout %q: want a positive Go duration such as 250ms", v)
	}
	return min(d, max), nil
}

// prepare does what a call and a run share: the module, the deadline, a concurrency slot.
// It returns nil after writing an error.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, t *tenant) (*loaded, *entry, time.Duration, bool) {
	hash := r.PathValue("hash")
	note(w, slog.String("module", short(hash)))
	e, ok := s.store.get(hash, t.Name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_module", "no such module")
		return nil, nil, 0, false
	}
	if e.info.WASI && !t.WASI {
		writeError(w, http.StatusForbidden, "wasi_not_allowed", "this tenant may not use WASI modules")
		return nil, nil, 0, false
	}
	timeout, err := deadline(r, t)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_timeout", err.Error())
		return nil, nil, 0, false
	}
	l, err := s.module(t, e, nil)
	if err != nil {
		s.writeLoadError(w, err)
		return nil, nil, 0, false
	}
	return l, e, timeout, true
}

// CallResult is the response of a call (200 whatever the guest did): Outcome is "ok" (with
// Results), "trap" (Trap is the spec's message, Kind the host.TrapKind), "deadline" (the
// request's or tenant's timeout ended the call), "exit" (proc_exit), "fault" (a CPU exception
// in the guest) or "limit" (the guest exceeded the tenant's memory).
type CallResult struct {
	Outcome   string `json:"outcome"`
	Results   []any  `json:"results,omitempty"`
	Trap      string `json:"trap,omitempty"`
	Kind      *int   `json:"kind,omitempty"`
	Error     string `json:"error,omitempty"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
	// Run only: the program's output (text when valid UTF-8, else in the _base64 fields).
	Stdout       *string `json:"stdout,omitempty"`
	Stderr       *string `json:"stderr,omitempty"`
	StdoutBase64 string  `json:"stdout_base64,omitempty"`
	StderrBase64 string  `json:"stderr_base64,omitempty"`
	Truncated    bool    `json:"truncated,omitempty"`
	DurationUS   int64   `json:"duration_us"`
}

// result turns a call's error into its outcome; ok false means a server fault (5xx).
func result(err error, timeout time.Duration) (CallResult, bool) {
	out, _ := outcome(err)
	res := CallResult{Outcome: out}
	var trap *host.TrapError
	var exit *api.ExitError
	switch out {
	case "ok":
	case "trap":
		errors.As(err, &trap)
		k := int(trap.Kind)
		res.Trap, res.Kind = trap.Kind.String(), &k
	case "exit":
		errors.As(err, &exit)
		c := int(exit.Code)
		res.ExitCode = &c
	case "deadline":
		res.Error, res.TimeoutMS = err.Error(), timeout.Milliseconds()
	case "fault", "limit", "canceled":
		res.Error = err.Error()
	default:
		return res, false
	}
	return res, true
}

func (s *Server) call(w http.ResponseWriter, r *http.Request, t *tenant) {
	export := r.PathValue("export")
	body, ok := s.readBody(w, r, t.MaxRequestBytes)
	if !ok {
		return
	}
	l, _, timeout, ok := s.prepare(w, r, t)
	if !ok {
		return
	}
	note(w, slog.String("export", export))
	if l.world != nil {
		s.callComponent(w, r, t, l, export, body, timeout)
		return
	}
	def, found := l.mod.ExportedFunction(export)
	if !found {
		writeError(w, http.StatusNotFound, "unknown_export", fmt.Sprintf("the module has no function export %q", export))
		return
	}
	params, err := parseArgs(body, def.ParamTypes)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_arguments", err.Error())
		return
	}
	s.invoke(w, r, t, timeout, func(ctx context.Context) ([]any, error) {
		res, err := l.mod.Call(ctx, export, params...)
		if err != nil {
			return nil, err
		}
		return formatResults(res, def.ResultTypes), nil
	})
}

// invoke takes a concurrency slot, runs call under the request's deadline and answers with its
// outcome (and results, when it returned).
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, t *tenant, timeout time.Duration, call func(ctx context.Context) ([]any, error)) {
	if !s.acquire(w, r, t) {
		return
	}
	defer t.release()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	start := time.Now()
	results, err := call(ctx)
	cr, ok := result(err, timeout)
	if !ok {
		s.callError(w, r, err)
		return
	}
	cr.DurationUS = time.Since(start).Microseconds()
	if err == nil {
		cr.Results = results
	}
	note(w, slog.String("outcome", cr.Outcome))
	s.writeOutcome(w, cr)
}

// callComponent calls a component's export: the arguments are a JSON array of WAVE values
// (strings, one per parameter), the result one WAVE value; one pooled sandbox on fresh state
// serves the call's core calls (realloc, the export, its post-return).
func (s *Server) callComponent(w http.ResponseWriter, r *http.Request, t *tenant, l *loaded, export string, body []byte, timeout time.Duration) {
	f, err := l.world.Func(export, true)
	if err != nil || l.run != "" {
		writeError(w, http.StatusNotFound, "unknown_export", fmt.Sprintf("the component exports no function %q", export))
		return
	}
	var waves []string
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &waves); err != nil {
			writeError(w, http.StatusBadRequest, "bad_arguments", "arguments must be one JSON array of WAVE values, each a string (e.g. [\"42\", \"\\\"text\\\"\"]): "+err.Error())
			return
		}
	}
	if p, res := f.HandleParam(); p != nil {
		writeError(w, http.StatusBadRequest, "bad_arguments", fmt.Sprintf("%s takes a handle of the component's resource %s (parameter %s): handles live in one call's sandbox", f.Key(), res, p.Name))
		return
	}
	args, err := wit.ParseArgs(f, waves)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_arguments", err.Error())
		return
	}
	anys := make([]any, len(args))
	copy(anys, args)
	s.invoke(w, r, t, timeout, func(ctx context.Context) ([]any, error) {
		var out []any
		err := l.mod.WithSandbox(ctx, f.CoreName, func(ctx context.Context, sb *host.Sandbox) error {
			v, err := l.world.CallFunc(ctx, sb, f, anys...)
			if err == nil && f.Result != nil {
				var res string
				res, err = wit.FormatWAVE(f.Result, v)
				out = []any{res}
			}
			return err
		})
		if errors.Is(err, wit.ErrTrap) && !errors.Is(err, host.ErrTrap) {
			// A guest that broke the canonical ABI (a bad pointer, string, handle): its fault.
			err = fmt.Errorf("%w: %w", host.ErrGuestFault, err)
		}
		return out, err
	})
}

func (s *Server) writeOutcome(w http.ResponseWriter, cr CallResult) {
	if cr.Outcome == "canceled" { // the client went away: nobody reads this
		writeJSON(w, 499, cr)
		return
	}
	writeJSON(w, http.StatusOK, cr)
}

// capped is one of stdout and stderr sharing a byte budget; writes beyond it fail.
type capped struct {
	mu   *sync.Mutex
	left *int64
	buf  bytes.Buffer
	cut  *bool
}

var errOutputLimit = errors.New("response size limit reached")

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(len(p)) <= *c.left {
		*c.left -= int64(len(p))
		return c.buf.Write(p)
	}
	n := int(*c.left)
	c.buf.Write(p[:n])
	*c.left, *c.cut = 0, true
	return n, errOutputLimit
}

// run runs a WASI command's _start with the request body as stdin and the query's "arg"
// parameters (repeatable, in order) as arguments after argv[0] (the query's "argv0", default
// the module's hash).
func (s *Server) run(w http.ResponseWriter, r *http.Request, t *tenant) {
	if !t.WASI {
		writeError(w, http.StatusForbidden, "wasi_not_allowed", "this tenant may not run WASI programs")
		return
	}
	stdin, ok := s.readBody(w, r, t.MaxRequestBytes)
	if !ok {
		return
	}
	l, e, timeout, ok := s.prepare(w, r, t)
	if !ok {
		return
	}
	if !e.info.Command {
		writeError(w, http.StatusBadRequest, "not_a_command", "the module has no _start and is no wasi:cli/command (call its exports instead)")
		return
	}
	q := r.URL.Query()
	argv0 := q.Get("argv0")
	if argv0 == "" {
		argv0 = e.info.Hash
	}
	args := append([]string{argv0}, q["arg"]...)
	size := 0
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			writeError(w, http.StatusBadRequest, "bad_arguments", "an argument contains NUL")
			return
		}
		size += len(a) + 1
	}
	env, err := t.runEnv(q["env"])
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errEnvNotAllowed) {
			code = http.StatusForbidden
		}
		writeError(w, code, "bad_env", err.Error())
		return
	}
	counted := env
	if counted == nil {
		counted = t.Env
	}
	for _, e := range counted {
		size += len(e) + 1
	}
	if size > t.MaxArgBytes {
		writeError(w, http.StatusBadRequest, "bad_arguments", fmt.Sprintf("arguments and environment exceed %d bytes", t.MaxArgBytes))
		return
	}
	if !s.acquire(w, r, t) {
		return
	}
	defer t.release()
	var mu sync.Mutex
	left, cut := t.MaxResponseBytes, false
	stdout := &capped{mu: &mu, left: &left, cut: &cut}
	stderr := &capped{mu: &mu, left: &left, cut: &cut}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	ctx = wasi.WithStdio(ctx, wasi.Stdio{Stdin: bytes.NewReader(stdin), Stdout: stdout, Stderr: stderr})
	ctx = wasi.WithArgs(ctx, args)
	if env != nil {
		ctx = wasi.WithEnv(ctx, env)
	}
	start := time.Now()
	if l.run != "" { // a wasi:cli/command component
		err = components.RunResult(l.mod.Call(ctx, l.run))
	} else {
		_, err = l.mod.Call(ctx, "_start")
	}
	if errors.Is(err, wasi.ErrOutput) && errors.Is(err, errOutputLimit) {
		// Output cut by the response cap is what Truncated reports, not a failure (a batched
		// write's error reaches the host when the program did not write again).
		if exit := (*api.ExitError)(nil); errors.As(err, &exit) {
			err = exit
		} else {
			err = nil
		}
	}
	cr, ok := result(err, timeout)
	if !ok {
		s.callError(w, r, err)
		return
	}
	cr.DurationUS = time.Since(start).Microseconds()
	if cr.Outcome == "ok" { // _start returned: exit code 0
		cr.Outcome = "exit"
		zero := 0
		cr.ExitCode = &zero
	}
	mu.Lock()
	cr.Truncated = cut
	setOutput(&cr.Stdout, &cr.StdoutBase64, stdout.buf.Bytes())
	setOutput(&cr.Stderr, &cr.StderrBase64, stderr.buf.Bytes())
	mu.Unlock()
	note(w, slog.String("outcome", cr.Outcome))
	s.writeOutcome(w, cr)
}

var errEnvNotAllowed = errors.New("not in the tenant's request_env")

// runEnv is a run's environment: the tenant's Env with the request's NAME=VALUE entries set
// (each NAME must be in the tenant's RequestEnv); nil when the request sets none.
func (t *tenant) runEnv(req []string) ([]string, error) {
	if len(req) == 0 {
		return nil, nil
	}
	env := slices.Clone(t.Env)
	for _, kv := range req {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("env %q: want NAME=VALUE without NUL", kv)
		}
		if !t.requestEnv[name] {
			return nil, fmt.Errorf("env %s: %w", name, errEnvNotAllowed)
		}
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return env, nil
}

func setOutput(text **string, b64 *string, b []byte) {
	if utf8.Valid(b) {
		s := string(b)
		*text = &s
		return
	}
	*b64 = base64.StdEncoding.EncodeToString(b)
}

// callError answers a call that did not run for a reason of the server's: the module was
// deleted meanwhile (404), the server is shutting down (503), or a fault (500).
func (s *Server) callError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, host.ErrClosed) && s.draining.Load():
		writeError(w, http.StatusServiceUnavailable, "draining", "shutting down")
	case errors.Is(err, host.ErrClosed):
		writeError(w, http.StatusNotFound, "unknown_module", "the module was deleted")
	default:
		s.serverError(w, r, err)
	}
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("server error", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", err.Error())
}

// APIError is the body of every 4xx and 5xx response.
type APIError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, APIError{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
