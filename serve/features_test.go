package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestSpansParentChild: a /run under a caller's traceparent is a server span (named by its
// route) whose child is the call's span, whose children are the host calls' spans.
func TestSpansParentChild(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "wasi/stdio.wasm")
	ts.exp.Reset()
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("POST", ts.url+"/v1/modules/"+hash+"/run", strings.NewReader("hi"))
	req.Header.Set("Authorization", "Bearer alice-token")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `"stdout":"hi"`) {
		t.Fatalf("run: %s", b)
	}
	spans := ts.exp.GetSpans()
	var server, call *tracetest.SpanStub
	var hosts []tracetest.SpanStub
	for i, sp := range spans {
		switch {
		case sp.Name == "POST /v1/modules/{hash}/run":
			server = &spans[i]
		case sp.Name == "hlwasm.call _start":
			call = &spans[i]
		case strings.HasPrefix(sp.Name, "hlwasm.host "):
			hosts = append(hosts, sp)
		}
	}
	if server == nil || call == nil {
		t.Fatalf("spans: %v", names(spans))
	}
	if server.SpanKind != trace.SpanKindServer || server.SpanContext.TraceID().String() != traceID || server.Parent.SpanID().String() != parentID {
		t.Errorf("server span: kind %v, trace %s, parent %s", server.SpanKind, server.SpanContext.TraceID(), server.Parent.SpanID())
	}
	if call.Parent.SpanID() != server.SpanContext.SpanID() || call.SpanContext.TraceID() != server.SpanContext.TraceID() {
		t.Errorf("call span's parent %s, want the server span %s", call.Parent.SpanID(), server.SpanContext.SpanID())
	}
	// The stdin reads go to the host (stdin is no regular file); the one small stdout write is
	// answered inside the guest (guest-side WASI I/O, micro-VM engine): no host call, no span.
	want := map[string]int{"hlwasm.host wasi_snapshot_preview1.fd_read": 2, "hlwasm.host wasi_snapshot_preview1.fd_write": 0}
	if ts.cfg.Engine == host.EngineWazero {
		want["hlwasm.host wasi_snapshot_preview1.fd_write"] = 1
	}
	got := map[string]int{}
	for _, h := range hosts {
		got[h.Name]++
		if h.Parent.SpanID() != call.SpanContext.SpanID() {
			t.Errorf("%s: parent %s, want the call span %s", h.Name, h.Parent.SpanID(), call.SpanContext.SpanID())
		}
		if h.StartTime.Before(call.StartTime) || h.EndTime.After(call.EndTime) || h.EndTime.Before(h.StartTime) {
			t.Errorf("%s [%v, %v] outside its call [%v, %v]", h.Name, h.StartTime, h.EndTime, call.StartTime, call.EndTime)
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("host spans %v, want %v", got, want)
			break
		}
	}
	attrs := map[string]string{}
	for _, a := range server.Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs["http.route"] != "POST /v1/modules/{hash}/run" || attrs["http.response.status_code"] != "200" {
		t.Errorf("server span attributes: %v", attrs)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

// TestTracerProviders: the stdout exporter writes the spans; the OTLP/HTTP one posts them to
// the endpoint given (a base URL gets /v1/traces) or named by OTEL_EXPORTER_OTLP_ENDPOINT.
func TestTracerProviders(t *testing.T) {
	ctx := context.Background()
	if tp, err := NewTracerProvider(ctx, Tracing{Exporter: "none"}); tp != nil || err != nil {
		t.Fatalf("none: %v %v", tp, err)
	}
	for _, bad := range []Tracing{{Exporter: "jaeger"}, {Exporter: "otlp", Endpoint: "collector:4318"}, {Exporter: "otlp", Endpoint: "ftp://x"}} {
		if _, err := NewTracerProvider(ctx, bad); !errors.Is(err, ErrTracing) {
			t.Errorf("%+v: %v, want ErrTracing", bad, err)
		}
	}
	var out bytes.Buffer
	tp, err := NewTracerProvider(ctx, Tracing{Exporter: "stdout", Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(ctx, "stdout-span")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Name":"stdout-span"`) || !strings.Contains(out.String(), `"Value":"hlwasm"`) {
		t.Errorf("stdout exporter wrote %s", out.String())
	}

	var mu sync.Mutex
	got := map[string]int{}
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.Method == "POST" && r.Header.Get("Content-Type") == "application/x-protobuf" && bytes.Contains(b, []byte("otlp-span")) {
			got[r.URL.Path]++
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	export := func(tr Tracing) {
		t.Helper()
		tp, err := NewTracerProvider(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		_, span := tp.Tracer("test").Start(ctx, "otlp-span")
		span.End()
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	export(Tracing{Exporter: "otlp", Endpoint: collector.URL})
	export(Tracing{Exporter: "otlp", Endpoint: collector.URL + "/custom/path"})
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL+"/env")
	export(Tracing{Exporter: "otlp"})
	mu.Lock()
	defer mu.Unlock()
	if got["/v1/traces"] != 1 || got["/custom/path"] != 1 || got["/env/v1/traces"] != 1 {
		t.Errorf("collector received %v", got)
	}
}

// TestRateLimit: a tenant past its token bucket gets 429 with Retry-After; others do not.
func TestRateLimit(t *testing.T) {
	tenants := []Tenant{{Name: "slow", Tokens: []string{"slow-token"}, Rate: 0.01, Burst: 2},
		{Name: "fast", Tokens: []string{"fast-token"}}}
	ts := newTestServer(t, Config{Tenants: tenants})
	hash := upload(t, ts, "slow-token", "arith.wasm") // one token
	wantCode(t, call(t, ts, "slow-token", hash, "i32_add", "[1,2]"), http.StatusOK)
	req, _ := http.NewRequest("POST", ts.url+"/v1/modules/"+hash+"/call/i32_add", strings.NewReader("[1,2]"))
	req.Header.Set("Authorization", "Bearer slow-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// At 0.01/s the next token is ~100 s away.
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusTooManyRequests || ra < 90 || ra > 100 ||
		!strings.Contains(string(b), `"code":"rate_limited"`) {
		t.Errorf("past the burst: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	upload(t, ts, "fast-token", "arith.wasm")
	for range 5 {
		wantCode(t, call(t, ts, "fast-token", hash, "i32_add", "[1,2]"), http.StatusOK)
	}
	r := do(t, "GET", ts.url+"/metrics", "", nil)
	if !strings.Contains(string(r.body), `hlwasm_rejected_total{reason="rate",tenant="slow"} 1`) {
		t.Errorf("no rate rejection in the metrics")
	}
}

// TestReload: tokens change at once, a changed tenant's in-flight call finishes on its old
// state (closed afterwards), a removed tenant is refused, and a bad configuration changes nothing.
func TestReload(t *testing.T) {
	ts := newTestServer(t, Config{})
	hash := upload(t, ts, "alice-token", "traps.wasm")
	bobHash := upload(t, ts, "bob-token", "arith.wasm")
	oldAlice := ts.set.Load().byName["alice"]
	oldBob := ts.set.Load().byName["bob"]
	inflight := make(chan resp, 1)
	go func() {
		inflight <- do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/spin?timeout=2s", "alice-token", nil)
	}()
	for deadline := time.Now().Add(10 * time.Second); len(oldAlice.slots) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call never started")
		}
	}
	bad := [][]Tenant{
		nil,
		{{Name: "x", Tokens: []string{"t"}}, {Name: "x", Tokens: []string{"u"}}},
		{{Name: "x", Tokens: []string{"t"}}, {Name: "y", Tokens: []string{"t"}}},
		{{Name: "x", Rate: -1}},
		{{Name: "x", Env: []string{"NOEQUALS"}}},
		{{Name: "x", Modules: []ModuleConfig{{Hash: "abc"}}}},
		{{Name: "x", WASI: true, Preopens: []Preopen{{Host: "/does/not/exist"}}}},
	}
	for _, b := range bad {
		if err := ts.Reload(b); err == nil {
			t.Errorf("Reload(%+v) accepted", b)
		}
	}
	if ts.set.Load().byName["alice"] != oldAlice {
		t.Fatal("a failed reload changed the configuration")
	}
	// alice: new timeout (new state); bob: token rotated only (same state); carol: new.
	err := ts.Reload([]Tenant{
		{Name: "alice", Tokens: []string{"alice-token"}, WASI: true, MaxConcurrency: 2, Timeout: Duration(3 * time.Second)},
		{Name: "bob", Tokens: []string{"bob-token-2"}, MaxConcurrency: 1, QueueWait: Duration(20 * time.Millisecond),
			MaxRequestBytes: 1024, Timeout: Duration(2 * time.Second)},
		{Name: "carol", Tokens: []string{"carol-token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	set := ts.set.Load()
	if set.byName["alice"] == oldAlice || set.byName["bob"] != oldBob {
		t.Errorf("alice replaced %v (want true), bob kept %v (want true)", set.byName["alice"] != oldAlice, set.byName["bob"] == oldBob)
	}
	wantCode(t, call(t, ts, "bob-token", bobHash, "i32_add", "[1,2]"), http.StatusUnauthorized)
	wantCode(t, call(t, ts, "bob-token-2", bobHash, "i32_add", "[1,2]"), http.StatusOK)
	wantCode(t, do(t, "GET", ts.url+"/v1/modules", "carol-token", nil), http.StatusOK)
	// alice's new state serves new calls while the old one still runs the spinning call.
	if r := call(t, ts, "alice-token", hash, "size", "[]"); !strings.Contains(string(r.body), `"outcome":"ok"`) {
		t.Errorf("alice after reload: %s", r.body)
	}
	if r := <-inflight; r.code != http.StatusOK || !strings.Contains(string(r.body), `"outcome":"deadline"`) || !strings.Contains(string(r.body), `"timeout_ms":2000`) {
		t.Errorf("the call in flight during the reload: %d %s", r.code, r.body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		oldAlice.refMu.Lock()
		users := oldAlice.users
		oldAlice.refMu.Unlock()
		ts.retMu.Lock()
		pending := ts.retiring[oldAlice]
		ts.retMu.Unlock()
		if users == 0 && !pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retired state is still in use (%d users, pending %v)", users, pending)
		}
	}
	if _, err := oldAlice.rt.LoadModule(context.Background(), fixture(t, "arith.wasm")); err == nil {
		t.Error("the retired tenant's runtime is still open")
	}
	// Removing bob.
	if err := ts.Reload([]Tenant{{Name: "alice", Tokens: []string{"alice-token"}}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, call(t, ts, "bob-token-2", bobHash, "i32_add", "[1,2]"), http.StatusUnauthorized)
	// Without tenants at start (no authentication) there is nothing to reload.
	open := newTestServer(t, Config{Tenants: []Tenant{}})
	if err := open.Reload(testTenants); !errors.Is(err, ErrReload) {
		t.Errorf("reload of an unauthenticated server: %v", err)
	}
}

// TestRunEnvAndModulePreopens: a run's environment is the tenant's with the request's allowed
// variables; a module's own preopens replace the tenant's, read-only unless writable.
func TestRunEnvAndModulePreopens(t *testing.T) {
	files, err := filepath.Abs(filepath.Join("..", "tests", "testdata", "wasi", "files"))
	if err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	cprog := hashOf(fixture(t, "wasi/cprog.wasm"))
	tenants := []Tenant{
		{Name: "gina", Tokens: []string{"gina-token"}, WASI: true, Env: []string{"GREETING=tenant", "OTHER=1"},
			RequestEnv: []string{"GREETING"}, MaxArgBytes: 200,
			Modules: []ModuleConfig{{Hash: cprog, Preopens: []Preopen{{Host: files, Guest: "/data"}}}}},
		{Name: "hank", Tokens: []string{"hank-token"}, WASI: true,
			Preopens: []Preopen{{Host: files, Guest: "/data"}},
			Modules:  []ModuleConfig{{Hash: cprog, Preopens: []Preopen{{Host: scratch, Guest: "/scratch", Writable: true}}}}},
	}
	ts := newTestServer(t, Config{Tenants: tenants})
	upload(t, ts, "gina-token", "wasi/cprog.wasm")
	upload(t, ts, "hank-token", "wasi/cprog.wasm")
	run := func(token, query string) resp {
		t.Helper()
		return do(t, "POST", ts.url+"/v1/modules/"+cprog+"/run"+query, token, nil)
	}
	stdout := func(r resp) string {
		t.Helper()
		wantCode(t, r, http.StatusOK)
		s, _ := r.json(t)["stdout"].(string)
		return s
	}
	if out := stdout(run("gina-token", "")); !strings.Contains(out, "GREETING=tenant\n") {
		t.Errorf("tenant env: %s", out)
	}
	if out := stdout(run("gina-token", "?env=GREETING=request")); !strings.Contains(out, "GREETING=request\n") {
		t.Errorf("request env: %s", out)
	}
	wantCode(t, run("gina-token", "?env=OTHER=2"), http.StatusForbidden)
	wantCode(t, run("gina-token", "?env=GREETING"), http.StatusBadRequest)
	wantCode(t, run("gina-token", "?env=GREETING=%00"), http.StatusBadRequest)
	wantCode(t, run("gina-token", "?arg="+strings.Repeat("x", 200)), http.StatusBadRequest)
	// gina's cprog has the module's /data (read-only): reading works, creating is refused.
	if out := stdout(run("gina-token", "?arg=/data/hello.txt&arg=-hostile&arg=/data")); !strings.Contains(out, "/data/hello.txt:1: ") ||
		!strings.Contains(out, "create: refused") {
		t.Errorf("module preopen: %s", out)
	}
	if _, err := os.Stat(filepath.Join(files, "newfile")); err == nil {
		os.Remove(filepath.Join(files, "newfile"))
		t.Fatal("a read-only preopen was written")
	}
	// hank's cprog has only its module's writable /scratch, not the tenant's /data.
	out := stdout(run("hank-token", "?arg=/data/hello.txt&arg=-hostile&arg=/scratch"))
	if strings.Contains(out, "/data/hello.txt:1:") || !strings.Contains(out, "create: created") {
		t.Errorf("hank's module preopen: %s", out)
	}
	if _, err := os.Stat(filepath.Join(scratch, "newfile")); err != nil {
		t.Errorf("the writable preopen: %v", err)
	}
}

// TestUnknownRoutes: unknown paths are a JSON 404, known paths with another method a JSON 405
// with Allow; neither reaches a tenant's handler.
func TestUnknownRoutes(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/nope", 404, ""},
		{"GET", "/v1/modules/x/y/z", 404, ""},
		{"PUT", "/v1/modules", 405, "POST, GET, HEAD"},
		{"GET", "/v1/modules/abc/run", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"DELETE", "/v1/modules/abc/call/f", 405, "POST"},
	} {
		req, _ := http.NewRequest(c.method, ts.url+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := `"code":"not_found"`
		if c.code == 405 {
			want = `"code":"method_not_allowed"`
		}
		if res.StatusCode != c.code || res.Header.Get("Allow") != c.allow || !strings.Contains(string(b), want) ||
			res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d Allow %q %s", c.method, c.path, res.StatusCode, res.Header.Get("Allow"), b)
		}
	}
	r := do(t, "GET", ts.url+"/metrics", "", nil)
	if !strings.Contains(string(r.body), `hlwasm_http_requests_total{code="405",route="unmatched"} 4`) {
		t.Error("405s are not counted as unmatched")
	}
}

// TestDeployTenantsFile: the tenants file in deploy/hlwasm.yaml's Secret is one the server takes.
func TestDeployTenantsFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "hlwasm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "tenants.json: |\n")
	if !ok {
		t.Fatal("no tenants.json in deploy/hlwasm.yaml")
	}
	var file strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "    ") {
			break
		}
		file.WriteString(line[4:] + "\n")
	}
	p := filepath.Join(t.TempDir(), "tenants.json")
	os.WriteFile(p, []byte(file.String()), 0o600)
	tenants, err := LoadTenants(p)
	if err != nil || len(tenants) == 0 {
		t.Fatalf("%v (%d tenants): %s", err, len(tenants), file.String())
	}
	for _, tc := range tenants {
		if err := tc.validate(); err != nil {
			t.Error(err)
		}
	}
}

// TestReloadUnderLoad: reloads that replace a tenant's state while 4 clients call it drop no
// call; every retired state is closed once its requests are done.
func TestReloadUnderLoad(t *testing.T) {
	cfg := func(timeout time.Duration) []Tenant {
		return []Tenant{{Name: "alice", Tokens: []string{"alice-token"}, MaxConcurrency: 4,
			QueueWait: Duration(time.Second), Timeout: Duration(timeout)}}
	}
	ts := newTestServer(t, Config{Tenants: cfg(5 * time.Second)})
	hash := upload(t, ts, "alice-token", "arith.wasm")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	ok := 0
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := call(t, ts, "alice-token", hash, "i32_add", "[40,2]")
				mu.Lock()
				if r.code == http.StatusOK && strings.Contains(string(r.body), `"results":[42]`) {
					ok++
				} else {
					failures = append(failures, fmt.Sprintf("%d %s", r.code, r.body))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 20 {
		if err := ts.Reload(cfg(time.Duration(5+i%2) * time.Second)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // let calls start on each state
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failed calls (of %d), first: %s", len(failures), ok+len(failures), failures[0])
	}
	ts.retMu.Lock()
	pending := len(ts.retiring)
	ts.retMu.Unlock()
	if pending != 0 {
		t.Errorf("%d retired states still open with no request on them", pending)
	}
	// Only the modules of the state in force are named (closed ones are forgotten).
	named := 0
	ts.names.Range(func(any, any) bool { named++; return true })
	if named > 1 { // arith in the state in force, if a call reached it
		t.Errorf("%d modules named, want at most 1", named)
	}
	t.Logf("%d calls across 20 reloads", ok)
}

// TestHostFunctionsAllowList: a tenant's host_functions narrow what its modules may import
// (a WASI program is refused at upload, 422 import_not_allowed, naming the import); a
// module's own list replaces the tenant's, so that program loads and runs for its hash only.
func TestHostFunctionsAllowList(t *testing.T) {
	cprog := hashOf(fixture(t, "wasi/cprog.wasm"))
	tenants := []Tenant{
		{Name: "ida", Tokens: []string{"ida-token"}, WASI: true, HostFunctions: []string{"hlwasm.log"}},
		{Name: "jay", Tokens: []string{"jay-token"}, WASI: true, HostFunctions: []string{"hlwasm.log"},
			Modules: []ModuleConfig{{Hash: cprog, HostFunctions: []string{"wasi_snapshot_preview1.*"}}}},
	}
	ts := newTestServer(t, Config{Tenants: tenants})
	r := do(t, "POST", ts.url+"/v1/modules", "ida-token", fixture(t, "wasi/cprog.wasm"))
	wantCode(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "import_not_allowed") || !strings.Contains(string(r.body), "not in Config.AllowImports") {
		t.Errorf("refused upload: %s", r.body)
	}
	upload(t, ts, "jay-token", "wasi/cprog.wasm")
	out := do(t, "POST", ts.url+"/v1/modules/"+cprog+"/run", "jay-token", nil)
	wantCode(t, out, http.StatusOK)
	for _, bad := range [][]Tenant{
		{{Name: "x", HostFunctions: []string{"nodot"}}},
		{{Name: "x", HostFunctions: []string{"env.f*"}}},
		{{Name: "x", Modules: []ModuleConfig{{Hash: cprog, HostFunctions: []string{}}}}},
	} {
		if err := ts.Reload(bad); err == nil {
			t.Errorf("Reload(%+v) accepted", bad)
		}
	}
}
