package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hlwasm/hlwasm/host"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "tests", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func needKVM(t *testing.T) {
	t.Helper()
	rt, err := host.NewRuntime(context.Background(), host.Config{})
	if errors.Is(err, host.ErrNoKVM) {
		t.Skip("no KVM:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	rt.Close(context.Background())
}

var testTenants = []Tenant{
	{Name: "alice", Tokens: []string{"alice-token"}, WASI: true, MaxConcurrency: 2, Timeout: Duration(5 * time.Second)},
	{Name: "bob", Tokens: []string{"bob-token"}, MaxConcurrency: 1, QueueWait: Duration(20 * time.Millisecond),
		MaxRequestBytes: 1024, Timeout: Duration(2 * time.Second)},
}

type testServer struct {
	*Server
	url string
	exp *tracetest.InMemoryExporter
}

func newTestServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	needKVM(t)
	if cfg.Tenants == nil {
		cfg.Tenants = testTenants
	}
	exp := tracetest.NewInMemoryExporter()
	if cfg.TracerProvider == nil { // a test may pass noop.NewTracerProvider() for no tracing
		cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	if os.Getenv("HLWASM_SERVE_LOG") != "" {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return &testServer{Server: s, url: ts.URL, exp: exp}
}

type resp struct {
	code int
	body []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d %q: %v", r.code, r.body, err)
	}
	return m
}

func do(t *testing.T, method, url, token string, body []byte) resp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b}
}

func upload(t *testing.T, ts *testServer, token, name string) string {
	t.Helper()
	r := do(t, "POST", ts.url+"/v1/modules", token, fixture(t, name))
	if r.code != http.StatusCreated && r.code != http.StatusOK {
		t.Fatalf("upload %s: %d %s", name, r.code, r.body)
	}
	return r.json(t)["hash"].(string)
}

func call(t *testing.T, ts *testServer, token, hash, export, args string) resp {
	t.Helper()
	return do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/"+export, token, []byte(args))
}

func wantCode(t *testing.T, r resp, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
	}
}

func TestModuleLifecycle(t *testing.T) {
	ts := newTestServer(t, Config{DataDir: t.TempDir()})
	wasm := fixture(t, "arith.wasm")
	r := do(t, "POST", ts.url+"/v1/modules", "alice-token", wasm)
	wantCode(t, r, http.StatusCreated)
	info := r.json(t)
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	if info["hash"] != hash {
		t.Fatalf("hash %v, want %s", info["hash"], hash)
	}
	if !strings.Contains(string(r.body), `{"name":"i32_add","params":["i32","i32"],"results":["i32"]}`) {
		t.Errorf("exports: %s", r.body)
	}
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "alice-token", wasm), http.StatusOK) // again: same hash

	r = do(t, "GET", ts.url+"/v1/modules", "alice-token", nil)
	wantCode(t, r, http.StatusOK)
	if mods := r.json(t)["modules"].([]any); len(mods) != 1 {
		t.Fatalf("list: %s", r.body)
	}
	wantCode(t, do(t, "GET", ts.url+"/v1/modules/"+hash, "alice-token", nil), http.StatusOK)
	// Another tenant does not see it.
	wantCode(t, do(t, "GET", ts.url+"/v1/modules/"+hash, "bob-token", nil), http.StatusNotFound)
	if r := do(t, "GET", ts.url+"/v1/modules", "bob-token", nil); !strings.Contains(string(r.body), `"modules":[]`) {
		t.Fatalf("bob's list: %s", r.body)
	}

	for _, c := range []struct{ export, args, want string }{
		{"i32_add", "[2, 3]", `[5]`},
		{"i32_sub", "[2, 3]", `[-1]`},
		{"i32_add", "[4294967295, 1]", `[0]`},
		{"i64_mul", "[4294967296, 4294967296]", `[0]`},
		{"i64_add", "[9223372036854775807, 0]", `[9223372036854775807]`},
		{"f64_add", "[1.5, 2.25]", `[3.75]`},
		{"f32_mul", "[0.1, 1]", `[0.1]`},
		{"f64_mul", `["inf", -1]`, `["-inf"]`},
		{"divmod", "[7, 2]", `[3,1]`},
	} {
		r := call(t, ts, "alice-token", hash, c.export, c.args)
		wantCode(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), `"outcome":"ok","results":`+c.want) {
			t.Errorf("%s(%s) = %s, want %s", c.export, c.args, r.body, c.want)
		}
	}
	// Bad arguments: 400; unknown export or module: 404.
	for _, args := range []string{`["x", 1]`, `[1]`, `[1, 2, 3]`, `not json`, `[1.5, 2]`, `[4294967296, 0]`, `{}`} {
		wantCode(t, call(t, ts, "alice-token", hash, "i32_add", args), http.StatusBadRequest)
	}
	wantCode(t, call(t, ts, "alice-token", hash, "nope", "[]"), http.StatusNotFound)
	wantCode(t, call(t, ts, "alice-token", strings.Repeat("0", 64), "i32_add", "[1,2]"), http.StatusNotFound)
	wantCode(t, do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/i32_add?timeout=soon", "alice-token", []byte("[1,2]")), http.StatusBadRequest)
	// Invalid modules: 400.
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "alice-token", []byte("\x00asm\x01\x00\x00\x00\x99")), http.StatusBadRequest)
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "alice-token", []byte("hello")), http.StatusBadRequest)

	wantCode(t, do(t, "DELETE", ts.url+"/v1/modules/"+hash, "bob-token", nil), http.StatusNotFound)
	wantCode(t, do(t, "DELETE", ts.url+"/v1/modules/"+hash, "alice-token", nil), http.StatusNoContent)
	wantCode(t, do(t, "GET", ts.url+"/v1/modules/"+hash, "alice-token", nil), http.StatusNotFound)
	wantCode(t, call(t, ts, "alice-token", hash, "i32_add", "[1,2]"), http.StatusNotFound)
	if files, _ := filepath.Glob(filepath.Join(ts.cfg.DataDir, "*", "*")); len(files) != 0 {
		t.Errorf("files left after delete: %v", files)
	}
}

func TestTrapsAreResults(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "traps.wasm")
	for _, c := range []struct {
		export, trap string
		kind         host.TrapKind
	}{
		{"div_zero", "integer divide by zero", host.TrapDivideByZero},
		{"unreachable", "unreachable", host.TrapUnreachable},
		{"oob_load", "out of bounds memory access", host.TrapMemoryOutOfBounds},
		{"stack_overflow", "call stack exhausted", host.TrapCallStackExhausted},
	} {
		r := call(t, ts, "alice-token", hash, c.export, "")
		wantCode(t, r, http.StatusOK)
		m := r.json(t)
		if m["outcome"] != "trap" || m["trap"] != c.trap || m["kind"] != float64(c.kind) {
			t.Errorf("%s: %s", c.export, r.body)
		}
	}
	// A deadline (the request's, capped by the tenant's) is an outcome too.
	start := time.Now()
	r := do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/spin?timeout=100ms", "alice-token", nil)
	wantCode(t, r, http.StatusOK)
	if m := r.json(t); m["outcome"] != "deadline" || m["timeout_ms"] != float64(100) {
		t.Errorf("spin: %s", r.body)
	}
	t.Logf("spin answered after %v (no bound asserted: a guest the deadline did not stop hangs the test)", time.Since(start))
	// The sandbox is usable (reset) afterwards.
	r = call(t, ts, "alice-token", hash, "indirect_ok", "[5]")
	if m := r.json(t); m["outcome"] != "ok" {
		t.Errorf("after deadline: %s", r.body)
	}
}

func TestFreshStatePerCall(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "fresh.wasm")
	for range 3 {
		r := call(t, ts, "alice-token", hash, "incr", "[]")
		if !strings.Contains(string(r.body), `"results":[1001]`) {
			t.Fatalf("incr: %s", r.body)
		}
	}
	call(t, ts, "alice-token", hash, "dirty_then_trap", "[]")
	if r := call(t, ts, "alice-token", hash, "peek", "[]"); !strings.Contains(string(r.body), `"results":[0]`) {
		t.Fatalf("peek after a trap: %s", r.body)
	}
}

func TestAuthAndLimits(t *testing.T) {
	ts := newTestServer(t, Config{})
	wantCode(t, do(t, "GET", ts.url+"/v1/modules", "", nil), http.StatusUnauthorized)
	wantCode(t, do(t, "GET", ts.url+"/v1/modules", "wrong", nil), http.StatusUnauthorized)
	// bob may not use WASI.
	r := do(t, "POST", ts.url+"/v1/modules", "bob-token", fixture(t, "wasi/stdio.wasm"))
	wantCode(t, r, http.StatusForbidden)
	hash := upload(t, ts, "alice-token", "wasi/stdio.wasm")
	wantCode(t, do(t, "POST", ts.url+"/v1/modules/"+hash+"/run", "bob-token", nil), http.StatusForbidden)
	// bob's requests are limited to 1024 bytes.
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "bob-token", fixture(t, "c_basic.wasm")), http.StatusRequestEntityTooLarge)
	// An import the host does not allow.
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "alice-token", fixture(t, "imports.wasm")), http.StatusUnprocessableEntity)
	// Health.
	wantCode(t, do(t, "GET", ts.url+"/healthz", "", nil), http.StatusOK)
	wantCode(t, do(t, "GET", ts.url+"/readyz", "", nil), http.StatusOK)
}

func TestConcurrencyLimit429(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "bob-token", "traps.wasm")
	var wg sync.WaitGroup
	wg.Add(1)
	var first resp
	go func() {
		defer wg.Done()
		first = do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/spin?timeout=1s", "bob-token", nil)
	}()
	bob := ts.set.Load().byName["bob"]
	for deadline := time.Now().Add(10 * time.Second); len(bob.slots) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first call never started")
		}
	}
	r := call(t, ts, "bob-token", hash, "size", "[]")
	wantCode(t, r, http.StatusTooManyRequests)
	if m := r.json(t); m["code"] != "concurrency" {
		t.Errorf("429 body: %s", r.body)
	}
	// Another tenant is not affected.
	h2 := upload(t, ts, "alice-token", "traps.wasm")
	wantCode(t, call(t, ts, "alice-token", h2, "size", "[]"), http.StatusOK)
	wg.Wait()
	wantCode(t, first, http.StatusOK)
	wantCode(t, call(t, ts, "bob-token", hash, "size", "[]"), http.StatusOK)
}

func TestRunWASI(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "wasi/stdio.wasm")
	r := do(t, "POST", ts.url+"/v1/modules/"+hash+"/run", "alice-token", []byte("hello from stdin"))
	wantCode(t, r, http.StatusOK)
	if m := r.json(t); m["outcome"] != "exit" || m["exit_code"] != float64(0) || m["stdout"] != "hello from stdin" {
		t.Errorf("run: %s", r.body)
	}
	// Arguments and exit codes (cprog: "exit N" exits with N).
	c := upload(t, ts, "alice-token", "wasi/cprog.wasm")
	r = do(t, "POST", ts.url+"/v1/modules/"+c+"/run?arg=exit&arg=7", "alice-token", nil)
	wantCode(t, r, http.StatusOK)
	if m := r.json(t); m["outcome"] != "exit" || m["exit_code"] != float64(7) || m["stdout"] != "exiting with 7\n" {
		t.Errorf("run exit 7: %s", r.body)
	}
	// Not a command.
	a := upload(t, ts, "alice-token", "arith.wasm")
	wantCode(t, do(t, "POST", ts.url+"/v1/modules/"+a+"/run", "alice-token", nil), http.StatusBadRequest)
}

func TestRestartReloadsFromSnapshot(t *testing.T) {
	needKVM(t)
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Tenants: testTenants, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	s1, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts1 := httptest.NewServer(s1.Handler())
	r := do(t, "POST", ts1.URL+"/v1/modules", "alice-token", fixture(t, "arith.wasm"))
	wantCode(t, r, http.StatusCreated)
	hash := r.json(t)["hash"].(string)
	ts1.Close()
	if err := s1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshots", hash+".snap")); err != nil {
		t.Fatal("no snapshot:", err)
	}

	ts := newTestServer(t, Config{DataDir: dir})
	r = do(t, "GET", ts.url+"/v1/modules/"+hash, "alice-token", nil)
	wantCode(t, r, http.StatusOK)
	// Concurrent first calls share one load.
	var wg sync.WaitGroup
	bodies := make([]string, 4)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = string(call(t, ts, "alice-token", hash, "i32_mul", "[6, 7]").body)
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		if !strings.Contains(b, `"results":[42]`) {
			t.Fatalf("after restart: %s", b)
		}
	}
	if from := ts.set.Load().byName["alice"].mods[hash].from; from != "snapshot" {
		t.Errorf("loaded from %s, want snapshot", from)
	}
}

func TestShutdownDrainsInFlightCalls(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "traps.wasm")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ts.Serve(l, "", "") }()
	url := "http://" + l.Addr().String()
	var wg sync.WaitGroup
	results := make([]resp, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = do(t, "POST", url+"/v1/modules/"+hash+"/call/spin?timeout=400ms", "alice-token", nil)
		}()
	}
	alice := ts.set.Load().byName["alice"]
	for deadline := time.Now().Add(10 * time.Second); len(alice.slots) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the calls never started")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(ctx) }()
	// Readiness fails at once; new work is refused while draining.
	for deadline := time.Now().Add(5 * time.Second); !ts.draining.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not draining")
		}
	}
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d", rec.Code)
	}
	if err := <-done; err != nil {
		t.Fatal("shutdown:", err)
	}
	wg.Wait()
	for _, r := range results {
		wantCode(t, r, http.StatusOK)
		if m := r.json(t); m["outcome"] != "deadline" {
			t.Errorf("drained call: %s", r.body)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	t.Logf("shutdown drained 2 calls in %v", time.Since(start))
}

func TestMetricsAndSpans(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "traps.wasm")
	call(t, ts, "alice-token", hash, "div_zero", "")
	call(t, ts, "alice-token", hash, "size", "")
	r := do(t, "GET", ts.url+"/metrics", "", nil)
	wantCode(t, r, http.StatusOK)
	body := string(r.body)
	short := hash[:12]
	for _, want := range []string{
		`hlwasm_calls_total{export="div_zero",module="` + short + `",outcome="trap",tenant="alice",trap="integer divide by zero"} 1`,
		`hlwasm_calls_total{export="size",module="` + short + `",outcome="ok",tenant="alice",trap=""} 1`,
		`hlwasm_call_duration_seconds_bucket{export="size",module="` + short + `",outcome="ok",tenant="alice",le=`,
		`hlwasm_sandboxes{tenant="alice"}`,
		`hlwasm_http_requests_total{code="201",route="POST /v1/modules"} 1`,
		`hlwasm_modules 1`,
		`hlwasm_vm_exits_total{module="` + short + `",tenant="alice"} `,
		`hlwasm_sandboxes_pooled{module="` + short + `",tenant="alice"} `,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if v := sumMetric(metricLines(t, ts), `hlwasm_snapshot_bytes{module="`+short+`",tenant="alice"}`, ""); v <= 0 {
		t.Errorf("hlwasm_snapshot_bytes of the module: %v", v)
	}
	// The pooled sandboxes' resets run in the background after the calls.
	for deadline := time.Now().Add(10 * time.Second); ; {
		met := metricLines(t, ts)
		if sumMetric(met, `hlwasm_reset_duration_seconds_count{result="ok",tenant="alice"}`, "") >= 2 &&
			sumMetric(met, `hlwasm_reset_pages_total{tenant="alice"}`, "") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reset metrics for two calls: %v", met)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A request carrying traceparent gets a child span.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", ts.url+"/v1/modules/"+hash+"/call/size", nil)
	req.Header.Set("Authorization", "Bearer alice-token")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	names := map[string]int{}
	parented := false
	for _, sp := range ts.exp.GetSpans() {
		names[sp.Name]++
		if sp.SpanContext.TraceID().String() == traceID && sp.Parent.SpanID().String() == "00f067aa0ba902b7" {
			parented = true
		}
	}
	if names["hlwasm.call div_zero"] != 1 || names["hlwasm.call size"] != 2 || !parented {
		t.Errorf("spans: %v, child of the caller's: %v", names, parented)
	}
}

func TestH2C(t *testing.T) {
	ts := newTestServer(t, Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.Serve(l, "", "")
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	res, err := c.Get("http://" + l.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", res.Proto)
	}
}

// TestSharedDataDir: replicas sharing a data directory (a ReadWriteMany volume) see each
// other's uploads and deletions without restarting.
func TestSharedDataDir(t *testing.T) {
	dir := t.TempDir()
	a := newTestServer(t, Config{DataDir: dir})
	b := newTestServer(t, Config{DataDir: dir})
	hash := upload(t, a, "alice-token", "arith.wasm")
	if r := call(t, b, "alice-token", hash, "i32_add", "[40, 2]"); !strings.Contains(string(r.body), `"results":[42]`) {
		t.Fatalf("call on the other replica: %d %s", r.code, r.body)
	}
	wantCode(t, do(t, "DELETE", a.url+"/v1/modules/"+hash, "alice-token", nil), http.StatusNoContent)
	if r := do(t, "GET", b.url+"/v1/modules", "alice-token", nil); !strings.Contains(string(r.body), `"modules":[]`) {
		t.Fatalf("list on the other replica after delete: %s", r.body)
	}
}

func TestRunLimitsAndPreopens(t *testing.T) {
	files, err := filepath.Abs(filepath.Join("..", "tests", "testdata", "wasi", "files"))
	if err != nil {
		t.Fatal(err)
	}
	tenants := []Tenant{{Name: "carol", Tokens: []string{"carol-token"}, WASI: true, MaxResponseBytes: 8,
		Preopens: []Preopen{{Host: files, Guest: "/data"}}},
		{Name: "dave", Tokens: []string{"dave-token"}, WASI: true, Preopens: []Preopen{{Host: files, Guest: "/data"}}},
		{Name: "erin", Tokens: []string{"erin-token"}, MaxMemory: 4 << 20},
		{Name: "frank", Tokens: []string{"frank-token"}, MaxMemory: 23068672 + 8<<20}}
	ts := newTestServer(t, Config{Tenants: tenants})
	hash := upload(t, ts, "carol-token", "wasi/stdio.wasm")
	r := do(t, "POST", ts.url+"/v1/modules/"+hash+"/run", "carol-token", []byte("0123456789abcdef"))
	wantCode(t, r, http.StatusOK)
	if m := r.json(t); m["stdout"] != "01234567" || m["truncated"] != true {
		t.Errorf("truncated run: %s", r.body)
	}
	c := upload(t, ts, "dave-token", "wasi/cprog.wasm")
	r = do(t, "POST", ts.url+"/v1/modules/"+c+"/run?arg=/data/hello.txt", "dave-token", nil)
	wantCode(t, r, http.StatusOK)
	want, _ := os.ReadFile(filepath.Join(files, "hello.txt"))
	if m := r.json(t); m["exit_code"] != float64(0) || !strings.Contains(m["stdout"].(string), "/data/hello.txt:1: "+strings.SplitN(string(want), "\n", 2)[0]) {
		t.Errorf("cat /data/hello.txt: %s", r.body)
	}
	// A module that cannot fit the tenant's max_memory is refused at upload, as the client's fault.
	r = do(t, "POST", ts.url+"/v1/modules", "erin-token", fixture(t, "fresh.wasm"))
	t.Logf("upload past max_memory: %d %s", r.code, r.body)
	wantCode(t, r, http.StatusUnprocessableEntity)
	// A guest that touches more memory than its tenant's max_memory: a 200 "limit" outcome.
	f := upload(t, ts, "frank-token", "fresh.wasm")
	r = call(t, ts, "frank-token", f, "dirty_pages", "[300]")
	t.Logf("touch past max_memory: %d %s", r.code, r.body)
	wantCode(t, r, http.StatusOK)
	if m := r.json(t); m["outcome"] != "limit" {
		t.Errorf("dirty_pages(300) with max_memory %d: %s", tenants[3].MaxMemory, r.body)
	}
	if r := call(t, ts, "frank-token", f, "dirty_pages", "[10]"); !strings.Contains(string(r.body), `"outcome":"ok"`) {
		t.Errorf("dirty_pages(10) after the limit: %s", r.body)
	}
}

func TestModulesDirReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "traps.wasm"), fixture(t, "traps.wasm"), 0o444); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Config{ModulesDir: dir, DataDir: t.TempDir()})
	sum := sha256.Sum256(fixture(t, "traps.wasm"))
	hash := hex.EncodeToString(sum[:])
	for _, tok := range []string{"alice-token", "bob-token"} {
		r := do(t, "GET", ts.url+"/v1/modules", tok, nil)
		if !strings.Contains(string(r.body), `"hash":"`+hash+`"`) || !strings.Contains(string(r.body), `"read_only":true`) {
			t.Fatalf("%s's list: %s", tok, r.body)
		}
		if r := call(t, ts, tok, hash, "div_zero", ""); !strings.Contains(string(r.body), `"outcome":"trap"`) {
			t.Fatalf("%s's call: %s", tok, r.body)
		}
	}
	wantCode(t, do(t, "DELETE", ts.url+"/v1/modules/"+hash, "alice-token", nil), http.StatusForbidden)
	// Uploading the same bytes changes nothing.
	wantCode(t, do(t, "POST", ts.url+"/v1/modules", "alice-token", fixture(t, "traps.wasm")), http.StatusOK)
}
