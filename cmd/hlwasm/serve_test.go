package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// serveProc is a running `hlwasm serve`.
type serveProc struct {
	cmd  *exec.Cmd
	url  string
	logs chan string // stderr lines after the "serving" one
	done chan error
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	return startServeStdout(t, nil, args...)
}

// startServeStdout starts hlwasm serve with its stdout going to stdout (nil: discarded).
func startServeStdout(t *testing.T, stdout io.Writer, args ...string) *serveProc {
	t.Helper()
	return startServeEnv(t, stdout, nil, args...)
}

// startServeEnv starts hlwasm serve with env added to its environment.
func startServeEnv(t *testing.T, stdout io.Writer, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout = stdout
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: make(chan string, 1000), done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l struct{ Msg, Addr string }
			json.Unmarshal(sc.Bytes(), &l)
			if l.Msg == "serving" {
				addr <- l.Addr
				continue
			}
			select {
			case p.logs <- sc.Text():
			default:
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("hlwasm serve did not start")
	}
	return p
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	res, err := c.Post(url, "application/octet-stream", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeSIGTERM: a real SIGTERM drains an in-flight call, the process exits 0, and a new
// process on the same data directory serves the uploaded module (from its snapshot).
func TestServeSIGTERM(t *testing.T) {
	requireKVM(t)
	data := t.TempDir()
	p := startServe(t, "--data-dir", data)
	for _, f := range []string{"arith.wasm", "traps.wasm"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if code, body := post(t, p.url+"/v1/modules", string(b)); code != 201 {
			t.Fatalf("upload %s: %d %s", f, code, body)
		}
	}
	arith := "ce731f5305974e66fc7feb5b8992ee9c146a1f02929a2cb7bbbf245ed5f990d2"
	traps := "893f275d9271f261c33fde1d55938fba6b87c7dd8f0dd392b7741b8a1043b2ec"
	type result struct {
		code int
		body string
	}
	inflight := make(chan result, 1)
	go func() {
		code, body := post(t, p.url+"/v1/modules/"+traps+"/call/spin?timeout=700ms", "")
		inflight <- result{code, body}
	}()
	time.Sleep(200 * time.Millisecond) // the call is running
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-inflight
	if r.code != 200 || !strings.Contains(r.body, `"outcome":"deadline"`) {
		t.Fatalf("in-flight call during SIGTERM: %d %s", r.code, r.body)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
	var logs bytes.Buffer
	for len(p.logs) > 0 {
		logs.WriteString(<-p.logs + "\n")
	}
	if !strings.Contains(logs.String(), `"msg":"draining"`) || !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("logs: %s", logs.String())
	}

	p2 := startServe(t, "--data-dir", data)
	if code, body := post(t, p2.url+"/v1/modules/"+arith+"/call/i32_add", "[20, 22]"); code != 200 || !strings.Contains(body, `"results":[42]`) {
		t.Fatalf("after restart: %d %s", code, body)
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p2.done; err != nil {
		t.Fatalf("second exit: %v", err)
	}
}

func writeTenants(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "tenants.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func uploadFixture(t *testing.T, url, token, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	code, body := authPost(t, url+"/v1/modules", token, string(b))
	if code != 201 && code != 200 {
		t.Fatalf("upload %s: %d %s", name, code, body)
	}
	var info struct{ Hash string }
	json.Unmarshal([]byte(body), &info)
	return info.Hash
}

func authPost(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func waitExit(t *testing.T, p *serveProc) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatal("hlwasm serve did not exit")
	}
	return -1
}

// inflightCalls reads hlwasm_inflight_calls from /metrics.
func inflightCalls(t *testing.T, url string) float64 {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && strings.HasPrefix(f[0], "hlwasm_inflight_calls{") {
			v, _ := strconv.ParseFloat(f[1], 64)
			sum += v
		}
	}
	return sum
}

// TestServeSIGTERMUnderLoad: 8 clients keep calling (good calls, traps, deadlines, fresh-state
// checks) while the process gets SIGTERM. Calls in flight at the signal complete correctly;
// every other request gets a correct answer, a 503 "draining", or a connection error before
// any response (the listener is closed); the process exits 0, i.e. it drained within
// --shutdown-timeout; a restart on the same data directory serves the modules.
func TestServeSIGTERMUnderLoad(t *testing.T) {
	requireKVM(t)
	dir, data := t.TempDir(), t.TempDir()
	tenants := writeTenants(t, dir, `{"tenants": [{"name": "load", "tokens": ["tok"], "max_concurrency": 8, "queue_wait": "1s"}]}`)
	p := startServe(t, "--data-dir", data, "--tenants", tenants, "--shutdown-timeout", "20s")
	arith := uploadFixture(t, p.url, "tok", "arith.wasm")
	traps := uploadFixture(t, p.url, "tok", "traps.wasm")
	fresh := uploadFixture(t, p.url, "tok", "fresh.wasm")
	kinds := []struct{ path, body, want string }{
		{"/v1/modules/" + arith + "/call/i32_add", "[2,3]", `"results":[5]`},
		{"/v1/modules/" + traps + "/call/div_zero", "", `"trap":"integer divide by zero"`},
		{"/v1/modules/" + fresh + "/call/incr", "", `"results":[1001]`},
		{"/v1/modules/" + fresh + "/call/dirty_then_spin?timeout=20ms", "", `"outcome":"deadline"`},
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var failures []string
	var signaled atomic.Bool
	var sent atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				k := kinds[i%len(kinds)]
				req, _ := http.NewRequest("POST", p.url+k.path, strings.NewReader(k.body))
				req.Header.Set("Authorization", "Bearer tok")
				after := signaled.Load()
				sent.Add(1)
				res, err := client.Do(req)
				outcome, failure := "", ""
				switch {
				case err != nil && (after || signaled.Load()):
					outcome = "connection error after SIGTERM"
				case err != nil:
					failure = "before SIGTERM: " + err.Error()
				default:
					b, rerr := io.ReadAll(res.Body)
					res.Body.Close()
					switch {
					case rerr != nil:
						failure = fmt.Sprintf("response cut: %d %v", res.StatusCode, rerr)
					case res.StatusCode == 200 && strings.Contains(string(b), k.want):
						outcome = "correct"
					case res.StatusCode == 503 && strings.Contains(string(b), `"code":"draining"`):
						outcome = "503 draining"
					default:
						failure = fmt.Sprintf("%s: %d %s", k.path, res.StatusCode, b)
					}
				}
				mu.Lock()
				if failure != "" {
					failures = append(failures, failure)
				} else {
					counts[outcome]++
				}
				mu.Unlock()
				if outcome != "correct" && outcome != "" || failure != "" {
					return // this client is done: the server is going away
				}
			}
		}()
	}
	// Two long calls are in flight when the signal comes.
	long := make(chan string, 2)
	for range 2 {
		go func() {
			code, body := authPost(t, p.url+"/v1/modules/"+traps+"/call/spin?timeout=1s", "tok", "")
			long <- fmt.Sprint(code, " ", body)
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); sent.Load() < 400 || inflightCalls(t, p.url) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the load did not start (%d sent)", sent.Load())
		}
	}
	signaled.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := <-long; !strings.HasPrefix(r, "200 ") || !strings.Contains(r, `"outcome":"deadline"`) {
			t.Errorf("a call in flight at SIGTERM: %s", r)
		}
	}
	wg.Wait()
	if code := waitExit(t, p); code != 0 {
		t.Errorf("exit status %d, want 0 (drained within --shutdown-timeout)", code)
	}
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %s", len(failures), failures[0])
	}
	t.Logf("answers: %v", counts)

	p2 := startServe(t, "--data-dir", data, "--tenants", tenants)
	for _, k := range kinds {
		if code, body := authPost(t, p2.url+k.path, "tok", k.body); code != 200 || !strings.Contains(body, k.want) {
			t.Errorf("after restart %s: %d %s", k.path, code, body)
		}
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, p2); code != 0 {
		t.Errorf("second exit status %d", code)
	}
}

// TestServeDrainDeadline: a call outlasting --shutdown-timeout does not hold the process: it
// exits with status 1 after the deadline and the client gets a connection error, not a 5xx.
func TestServeDrainDeadline(t *testing.T) {
	requireKVM(t)
	p := startServe(t, "--shutdown-timeout", "300ms")
	traps := uploadFixture(t, p.url, "", "traps.wasm")
	res := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("POST", p.url+"/v1/modules/"+traps+"/call/spin?timeout=30s", nil)
		r, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			res <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		res <- fmt.Sprint(r.StatusCode, " ", string(b))
	}()
	for deadline := time.Now().Add(30 * time.Second); inflightCalls(t, p.url) < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call did not start")
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, p); code != 1 {
		t.Errorf("exit status %d, want 1 (drain deadline passed)", code)
	}
	if r := <-res; !strings.HasPrefix(r, "error: ") && !strings.HasPrefix(r, "503 ") {
		t.Errorf("the call cut by the drain deadline: %s", r)
	}
}

// TestServeSIGHUPReload: SIGHUP rereads the tenants file: a rotated token works at once, the
// old one is refused, and a broken file keeps the configuration in force.
func TestServeSIGHUPReload(t *testing.T) {
	requireKVM(t)
	dir := t.TempDir()
	tenants := writeTenants(t, dir, `{"tenants": [{"name": "a", "tokens": ["old"]}]}`)
	p := startServe(t, "--tenants", tenants, "--data-dir", t.TempDir())
	arith := uploadFixture(t, p.url, "old", "arith.wasm")
	url := p.url + "/v1/modules/" + arith + "/call/i32_add"
	reload := func(body, want string) {
		t.Helper()
		writeTenants(t, dir, body)
		p.cmd.Process.Signal(syscall.SIGHUP)
		for deadline := time.Now().Add(20 * time.Second); ; {
			select {
			case l := <-p.logs:
				if strings.Contains(l, want) {
					return
				}
			case <-time.After(time.Until(deadline)):
				t.Fatalf("no %q in the logs after SIGHUP", want)
			}
		}
	}
	reload(`{"tenants": [{"name": "a", "tokens": ["new"], "rate": 1000}]}`, `"msg":"tenants reloaded"`)
	if code, body := authPost(t, url, "new", "[1,2]"); code != 200 || !strings.Contains(body, `"results":[3]`) {
		t.Errorf("new token: %d %s", code, body)
	}
	if code, _ := authPost(t, url, "old", "[1,2]"); code != 401 {
		t.Errorf("old token: %d, want 401", code)
	}
	reload(`{"tenants": [{"name": "a", "tokens": ["newer"], "bogus": 1}]}`, `"msg":"reload failed`)
	if code, _ := authPost(t, url, "new", "[1,2]"); code != 200 {
		t.Errorf("after a bad reload: %d, want 200", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, p); code != 0 {
		t.Errorf("exit status %d", code)
	}
}

// TestServeTraceStdout: --trace stdout writes each call's span (flushed at exit).
func TestServeTraceStdout(t *testing.T) {
	requireKVM(t)
	var out bytes.Buffer
	p := startServeStdout(t, &out, "--trace", "stdout")
	arith := uploadFixture(t, p.url, "", "arith.wasm")
	if code, body := authPost(t, p.url+"/v1/modules/"+arith+"/call/i32_add", "", "[1,2]"); code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, p); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, want := range []string{`"Name":"hlwasm.call i32_add"`, `"Name":"POST /v1/modules/{hash}/call/{export}"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %s: %.2000s", want, out.String())
		}
	}
	if _, stderr, code := hlwasm(t, "serve", "--trace", "zipkin"); code != 2 || !strings.Contains(stderr, "unknown exporter") {
		t.Errorf("--trace zipkin: %d %s", code, stderr)
	}
}

// TestServeTraceOTLP: --trace otlp posts the spans over OTLP/HTTP to --otlp-endpoint, or to
// OTEL_EXPORTER_OTLP_ENDPOINT without the flag (a collector on loopback).
func TestServeTraceOTLP(t *testing.T) {
	requireKVM(t)
	var mu sync.Mutex
	got := map[string]int{}
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if bytes.Contains(b, []byte("hlwasm.call i32_add")) && bytes.Contains(b, []byte("hlwasm")) {
			got[r.URL.Path]++
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	for _, c := range []struct {
		env  []string
		args []string
		path string
	}{
		{nil, []string{"--trace", "otlp", "--otlp-endpoint", collector.URL}, "/v1/traces"},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL + "/env"}, []string{"--trace", "otlp"}, "/env/v1/traces"},
	} {
		p := startServeEnv(t, nil, c.env, c.args...)
		arith := uploadFixture(t, p.url, "", "arith.wasm")
		if code, body := authPost(t, p.url+"/v1/modules/"+arith+"/call/i32_add", "", "[1,2]"); code != 200 {
			t.Fatalf("call: %d %s", code, body)
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, p); code != 0 {
			t.Fatalf("exit status %d", code)
		}
		mu.Lock()
		n := got[c.path]
		mu.Unlock()
		if n == 0 {
			t.Errorf("%v %v: the collector got no span at %s (%v)", c.env, c.args, c.path, got)
		}
	}
}
