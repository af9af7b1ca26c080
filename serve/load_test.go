package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/wasi"
)

// loadWorkload is one kind of request the load test measures, over HTTP and in-process.
type loadWorkload struct {
	name      string
	http      func() error
	inProcess func() error
}

// TestLoad measures requests/s and latency percentiles at 1, 2 and 8 concurrent clients of a
// trivial call (arith i32_add), a compute call (bench fib(20)) and a WASI command (stdio's
// _start echoing its stdin), over loopback HTTP/1.1 and in-process with host.Module.Call in
// the same run, plus two floors: net/http itself (a handler answering a fixed body) and
// net/http with the trivial call made in its handler (no serve code). It only
// reports (no timed assertion); run it with
//
//	HLWASM_LOAD=2s go test ./serve -run TestLoad -v
func TestLoad(t *testing.T) {
	per, err := time.ParseDuration(os.Getenv("HLWASM_LOAD"))
	if err != nil {
		t.Skip("set HLWASM_LOAD=<duration per measurement> to measure")
	}
	tenants := []Tenant{{Name: "load", Tokens: []string{"tok"}, WASI: true, MaxConcurrency: 8, QueueWait: Duration(time.Second)}}
	ts := newTestServer(t, Config{Tenants: tenants, TracerProvider: noop.NewTracerProvider()})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	post := func(url, body, want string) func() error {
		return func() error {
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer tok")
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Contains(b, []byte(want)) {
				return fmt.Errorf("%d %s", res.StatusCode, b)
			}
			return nil
		}
	}
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{PoolSize: 8, WASI: &wasi.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	load := func(path string) *host.Module {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := rt.LoadModule(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mod.Close(ctx) })
		return mod
	}
	direct := func(mod *host.Module, export string, want uint64, params ...uint64) func() error {
		return func() error {
			res, err := mod.Call(ctx, export, params...)
			if err == nil && res[0] != want {
				err = fmt.Errorf("%s: got %v", export, res)
			}
			return err
		}
	}
	arith := upload(t, ts, "tok", "arith.wasm")
	fibWasm, err := os.ReadFile(filepath.Join("..", "bench", "fib.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, "POST", ts.url+"/v1/modules", "tok", fibWasm)
	wantCode(t, r, http.StatusCreated)
	fib := r.json(t)["hash"].(string)
	stdio := upload(t, ts, "tok", "wasi/stdio.wasm")
	stdioMod := load(filepath.Join("..", "tests", "testdata", "wasi", "stdio.wasm"))
	workloads := []loadWorkload{
		{"trivial", post(ts.url+"/v1/modules/"+arith+"/call/i32_add", "[2,3]", `"results":[5]`),
			direct(load(filepath.Join("..", "tests", "testdata", "arith.wasm")), "i32_add", 5, 2, 3)},
		{"compute", post(ts.url+"/v1/modules/"+fib+"/call/fib", "[20]", `"results":[6765]`),
			direct(load(filepath.Join("..", "bench", "fib.wasm")), "fib", 6765, 20)},
		{"wasi", post(ts.url+"/v1/modules/"+stdio+"/run", "hello", `"stdout":"hello"`), func() error {
			var out bytes.Buffer
			cctx := wasi.WithStdio(ctx, wasi.Stdio{Stdin: strings.NewReader("hello"), Stdout: &out, Stderr: io.Discard})
			_, err := stdioMod.Call(cctx, "_start")
			var exit *api.ExitError
			if errors.As(err, &exit) && exit.Code == 0 {
				err = nil
			}
			if err == nil && out.String() != "hello" {
				err = fmt.Errorf("stdout %q", out.String())
			}
			return err
		}},
	}
	// The floor: net/http on loopback with the same client, a handler doing nothing.
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"outcome":"ok","results":[5],"duration_us":1}` + "\n"))
	}))
	defer floor.Close()
	floorCall := post(floor.URL, "[2,3]", `"results":[5]`)
	// The floor with the call: the same handler making the trivial call in-process, i.e. what
	// net/http and Module.Call cost together, without anything of serve's.
	arithMod := load(filepath.Join("..", "tests", "testdata", "arith.wasm"))
	floorWithCall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if _, err := arithMod.Call(r.Context(), "i32_add", 2, 3); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"outcome":"ok","results":[5],"duration_us":1}` + "\n"))
	}))
	defer floorWithCall.Close()
	floorCallCall := post(floorWithCall.URL, "[2,3]", `"results":[5]`)
	t.Logf("%-8s %-10s %7s %9s %9s %9s", "workload", "path", "clients", "req/s", "p50 µs", "p99 µs")
	for _, c := range []int{1, 2, 8} {
		rps, p50, p99, err := measure(c, per, floorCall)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-8s %-10s %7d %9.0f %9.1f %9.1f", "-", "net/http", c, rps, us(p50), us(p99))
		if rps, p50, p99, err = measure(c, per, floorCallCall); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-8s %-10s %7d %9.0f %9.1f %9.1f", "trivial", "http+call", c, rps, us(p50), us(p99))
		for _, w := range workloads {
			for _, m := range []struct {
				name string
				fn   func() error
			}{{"http", w.http}, {"in-process", w.inProcess}} {
				rps, p50, p99, err := measure(c, per, m.fn)
				if err != nil {
					t.Fatalf("%s %s: %v", w.name, m.name, err)
				}
				t.Logf("%-8s %-10s %7d %9.0f %9.1f %9.1f", w.name, m.name, c, rps, us(p50), us(p99))
			}
		}
	}
}

// BenchmarkHandler is the server's own share of a trivial call: the handler path (routing,
// auth, JSON, metrics, logging, the call) without sockets or a client, beside the bare call.
// Profile it with -cpuprofile/-memprofile.
func BenchmarkHandler(b *testing.B) {
	tenants := []Tenant{{Name: "load", Tokens: []string{"tok"}, MaxConcurrency: 8}}
	s, err := New(context.Background(), Config{Tenants: tenants, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		if errors.Is(err, host.ErrNoKVM) {
			b.Skip(err)
		}
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	wasm, err := os.ReadFile(filepath.Join("..", "tests", "testdata", "arith.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	serve := func(method, path, body string) *bufRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve("POST", "/v1/modules", string(wasm)); rec.code != http.StatusCreated {
		b.Fatalf("upload: %d %s", rec.code, rec.buf.String())
	}
	path := "/v1/modules/" + hashOf(wasm) + "/call/i32_add"
	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		var inCall int64
		for b.Loop() {
			rec := serve("POST", path, "[2,3]")
			var cr CallResult
			if json.Unmarshal(rec.buf.Bytes(), &cr) != nil || cr.Outcome != "ok" {
				b.Fatalf("%d %s", rec.code, rec.buf.String())
			}
			inCall += cr.DurationUS
		}
		b.ReportMetric(float64(inCall)*1e3/float64(b.N), "call-ns/op")
	})
	b.Run("call", func(b *testing.B) {
		b.ReportAllocs()
		t := s.set.Load().byName["load"]
		l := t.mods[hashOf(wasm)]
		for b.Loop() {
			if res, err := l.mod.Call(context.Background(), "i32_add", 2, 3); err != nil || res[0] != 5 {
				b.Fatal(res, err)
			}
		}
	})
	b.Run("call-timeout", func(b *testing.B) {
		b.ReportAllocs()
		t := s.set.Load().byName["load"]
		l := t.mods[hashOf(wasm)]
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if res, err := l.mod.Call(ctx, "i32_add", 2, 3); err != nil || res[0] != 5 {
				b.Fatal(res, err)
			}
			cancel()
		}
	})
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func measure(clients int, d time.Duration, fn func() error) (float64, time.Duration, time.Duration, error) {
	for range 50 { // warm up: pooled sandboxes, connections
		if err := fn(); err != nil {
			return 0, 0, 0, err
		}
	}
	lat, el, err := bench.Throughput(clients, d, fn)
	if err != nil || len(lat) == 0 {
		return 0, 0, 0, err
	}
	slices.Sort(lat)
	return float64(len(lat)) / el.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100], nil
}
