package serve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/machine"
)

// faultKind is one kind of request of the fault run and the answer it must get.
type faultKind struct {
	name, token, url, body, want string
	weight                       int
	disconnect                   bool // the client goes away 3 ms into the call
}

// TestFaultsUnderLoad drives 8 clients on loopback with good calls mixed with guests that trap,
// overflow their stack, loop past their deadline, go over their memory limit, engines that
// crash mid-call, and clients that disconnect mid-call (the call is canceled). Every answer must be the right one or a
// documented 429; no 5xx. The run is done twice: after the second, goroutines, open files,
// sandboxes and calls in flight must be back where the first left them (no leak). Bounded by a
// request count (HLWASM_LOAD=<duration> runs each phase that long instead).
func TestFaultsUnderLoad(t *testing.T) {
	tenants := []Tenant{
		{Name: "load", Tokens: []string{"tok"}, WASI: true, MaxConcurrency: 4, QueueWait: Duration(50 * time.Millisecond), Timeout: Duration(30 * time.Second)},
		{Name: "tight", Tokens: []string{"tight"}, MaxMemory: 23068672 + 8<<20, MaxConcurrency: 2, QueueWait: Duration(50 * time.Millisecond)},
	}
	// Spans are made (tracing on) but not kept, so that memory says something.
	ts := newTestServer(t, Config{Tenants: tenants, TracerProvider: sdktrace.NewTracerProvider()})
	arith := upload(t, ts, "tok", "arith.wasm")
	traps := upload(t, ts, "tok", "traps.wasm")
	fresh := upload(t, ts, "tok", "fresh.wasm")
	stdio := upload(t, ts, "tok", "wasi/stdio.wasm")
	upload(t, ts, "tight", "fresh.wasm")
	m := "/v1/modules/"
	kinds := []faultKind{
		{"ok", "tok", m + arith + "/call/i32_add", "[2,3]", `"outcome":"ok","results":[5]`, 40, false},
		{"fresh", "tok", m + fresh + "/call/incr", "", `"outcome":"ok","results":[1001]`, 10, false},
		{"run", "tok", m + stdio + "/run", "abc", `"stdout":"abc"`, 10, false},
		{"trap", "tok", m + traps + "/call/div_zero", "", `"trap":"integer divide by zero"`, 8, false},
		{"oob", "tok", m + traps + "/call/oob_store", "", `"trap":"out of bounds memory access"`, 6, false},
		{"stack", "tok", m + traps + "/call/stack_overflow", "", `"trap":"call stack exhausted"`, 4, false},
		{"deadline", "tok", m + fresh + "/call/dirty_then_spin?timeout=5ms", "", `"outcome":"deadline"`, 6, false},
		{"memory", "tight", m + fresh + "/call/dirty_pages", "[300]", `"outcome":"limit"`, 6, false},
		{"memory-ok", "tight", m + fresh + "/call/dirty_pages", "[10]", `"outcome":"ok","results":[10]`, 4, false},
		{"disconnect", "tok", m + traps + "/call/spin_count", "", "", 6, true},
		// An engine that crashes mid-call (machine.InjectCrashes): a 200 "fault", the sandbox
		// is discarded, and the next calls get healthy ones.
		{"crash", "tok", m + arith + "/call/i32_add", fmt.Sprintf("[%d,1]", machine.CrashMarker), `"outcome":"fault"`, 4, false},
	}
	defer machine.InjectCrashes()()
	per, _ := time.ParseDuration(os.Getenv("HLWASM_LOAD"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	phase := func() map[string]int {
		counts, failures := faultRun(ts.url, client, kinds, 8, 60, per)
		if len(failures) > 0 {
			t.Fatalf("%d wrong answers, first: %s", len(failures), failures[0])
		}
		client.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()
		return counts
	}
	counts := phase()
	t.Logf("phase 1: %v", counts)
	before := settle(t, ts)
	counts = phase()
	t.Logf("phase 2: %v", counts)
	after := settle(t, ts)
	t.Logf("after phase 1: %+v; after phase 2: %+v", before, after)
	// A pool may keep one more sandbox after the second phase: count what a sandbox holds.
	g1, f1 := sandboxCost(t)
	if after.goroutines-g1*after.sandboxes > before.goroutines-g1*before.sandboxes || after.fds-f1*after.sandboxes > before.fds-f1*before.sandboxes {
		buf := make([]byte, 1<<20)
		t.Errorf("leak: goroutines %d → %d, fds %d → %d\n%s", before.goroutines, after.goroutines, before.fds, after.fds, buf[:runtime.Stack(buf, true)])
	}
	// Memory: a second identical phase must not keep what it used (Go's heap and the sandboxes'
	// pages come and go, so the slack is generous; a leak of a sandbox or a snapshot per call
	// would exceed it many times over).
	if after.rssKiB > before.rssKiB+32<<10 {
		t.Errorf("RSS grew from %d KiB after phase 1 to %d KiB after phase 2", before.rssKiB, after.rssKiB)
	}
	if after.sandboxes > 4*(4+1)+1*(2+1) {
		t.Errorf("%d sandboxes live: more than the pools hold", after.sandboxes)
	}
	met := metricLines(t, ts)
	for l, v := range met {
		if strings.HasPrefix(l, "hlwasm_http_requests_total{") && strings.Contains(l, `code="5`) && v > 0 {
			t.Errorf("5xx answers: %s %v", l, v)
		}
		// A disconnected call is canceled; had it run on, it would end by its deadline.
		if strings.HasPrefix(l, "hlwasm_calls_total{") && strings.Contains(l, `export="spin_count"`) && !strings.Contains(l, `outcome="canceled"`) && v > 0 {
			t.Errorf("a disconnected call was not canceled: %s %v", l, v)
		}
	}
	t.Logf("canceled calls: %v, rejected: %v", sumMetric(met, "hlwasm_calls_total{", `outcome="canceled"`),
		sumMetric(met, "hlwasm_rejected_total{", ""))
	// The server is still healthy and answers correctly.
	wantCode(t, do(t, "GET", ts.url+"/healthz", "", nil), http.StatusOK)
	if r := call(t, ts, "tok", fresh, "peek", ""); !strings.Contains(string(r.body), `"results":[0]`) {
		t.Errorf("fresh state after the run: %s", r.body)
	}
}

// faultRun sends requests from n clients, each `count` requests (or for d when d > 0),
// choosing kinds by weight in a fixed sequence, and checks each answer.
func faultRun(base string, client *http.Client, kinds []faultKind, n, count int, d time.Duration) (map[string]int, []string) {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var failures []string
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; d > 0 && time.Now().Before(end) || d <= 0 && i < count; i++ {
				x, k := (c*count+i)*7919%total, 0
				for acc := kinds[0].weight; x >= acc; acc += kinds[k].weight {
					k++
				}
				kd := kinds[k]
				outcome, failure := faultRequest(base, client, kd)
				mu.Lock()
				if failure != "" {
					failures = append(failures, failure)
				} else {
					counts[outcome]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts, failures
}

func faultRequest(base string, client *http.Client, kd faultKind) (string, string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if kd.disconnect {
		t := time.AfterFunc(3*time.Millisecond, cancel)
		defer t.Stop()
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+kd.url, strings.NewReader(kd.body))
	req.Header.Set("Authorization", "Bearer "+kd.token)
	res, err := client.Do(req)
	if err != nil {
		if kd.disconnect && ctx.Err() != nil {
			return "disconnected", ""
		}
		return "", kd.name + ": " + err.Error()
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case err != nil && kd.disconnect:
		return "disconnected", ""
	case err != nil:
		return "", kd.name + ": reading the body: " + err.Error()
	case res.StatusCode == http.StatusTooManyRequests && bytes.Contains(b, []byte(`"code":"concurrency"`)) && res.Header.Get("Retry-After") != "":
		return "429", ""
	case res.StatusCode != http.StatusOK || kd.want == "" || !bytes.Contains(b, []byte(kd.want)):
		return "", fmt.Sprintf("%s: %d %s", kd.name, res.StatusCode, b)
	}
	return kd.name, ""
}

// sandboxCost is how many goroutines and open files one more sandbox takes.
func sandboxCost(t *testing.T) (int, int) {
	t.Helper()
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, fixture(t, "arith.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	var sbs []*host.Sandbox
	defer func() {
		for _, sb := range sbs {
			sb.Close(ctx)
		}
	}()
	count := func() (int, int) {
		fds, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(fds)
	}
	for range 2 { // the first may take the sandbox the load kept
		sb, err := mod.NewSandbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sbs = append(sbs, sb)
	}
	g0, f0 := count()
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sbs = append(sbs, sb)
	g, f := count()
	return g - g0, f - f0
}

type resources struct {
	goroutines, fds, sandboxes int
	rssKiB                     int
}

// settle waits until no call is in flight and goroutines stop falling, then counts resources.
func settle(t *testing.T, ts *testServer) resources {
	t.Helper()
	var r resources
	stable := 0
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		met := metricLines(t, ts)
		inflight := sumMetric(met, "hlwasm_inflight_calls{", "")
		g := runtime.NumGoroutine()
		if inflight == 0 && g == r.goroutines {
			stable++
		} else {
			stable = 0
		}
		r.goroutines = g
		if stable >= 5 {
			r.sandboxes = int(sumMetric(met, "hlwasm_sandboxes{", ""))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls still in flight (%v) or goroutines still changing (%d)", inflight, g)
		}
		http.DefaultClient.CloseIdleConnections()
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	r.fds = len(fds)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
				r.rssKiB, _ = strconv.Atoi(f[1])
			}
		}
	}
	return r
}

// metricLines reads /metrics through the handler (no connection) into series → value.
func metricLines(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	rec := newRecorder()
	req, _ := http.NewRequest("GET", "/metrics", nil)
	ts.Handler().ServeHTTP(rec, req)
	out := map[string]float64{}
	for _, l := range strings.Split(rec.buf.String(), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

func sumMetric(met map[string]float64, prefix, contains string) float64 {
	keys := make([]string, 0, len(met))
	for k := range met {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sum := 0.0
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) && strings.Contains(k, contains) {
			sum += met[k]
		}
	}
	return sum
}

// bufRecorder is a minimal ResponseWriter (httptest's recorder would do; this one keeps the
// fault test's reads of /metrics off the connection pool whose goroutines it counts).
type bufRecorder struct {
	h    http.Header
	buf  bytes.Buffer
	code int
}

func newRecorder() *bufRecorder                    { return &bufRecorder{h: http.Header{}} }
func (r *bufRecorder) Header() http.Header         { return r.h }
func (r *bufRecorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *bufRecorder) WriteHeader(code int)        { r.code = code }

// TestGuestFaultIsAnOutcome: a guest that crashes its engine or CPU (a machine-level fault,
// which no module reached through the API in these tests) is a 200 "fault", not a 5xx.
func TestGuestFaultIsAnOutcome(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("calling f: %w", &host.FaultError{}),
		fmt.Errorf("calling f: %w: guest runtime panic: engine state", host.ErrGuestFault),
	} {
		cr, ok := result(err, time.Second)
		if !ok || cr.Outcome != "fault" || cr.Error == "" {
			t.Errorf("%v: %+v, server fault %v", err, cr, !ok)
		}
		rec := newRecorder()
		(&Server{}).writeOutcome(rec, cr)
		if rec.code != http.StatusOK {
			t.Errorf("%v: status %d", err, rec.code)
		}
	}
	if _, ok := result(errors.New("disk on fire"), time.Second); ok {
		t.Error("an error of the server's is an outcome")
	}
}
