package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
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
