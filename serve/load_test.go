package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
)

// TestLoad measures requests/s and latency percentiles of a trivial call (arith i32_add) over
// loopback HTTP/1.1 at 1, 2 and 8 concurrent clients, against the same call made in-process
// with host.Module.Call. It only reports (no timed assertion); run it with
//
//	HLWASM_LOAD=2s go test ./serve -run TestLoad -v
func TestLoad(t *testing.T) {
	per, err := time.ParseDuration(os.Getenv("HLWASM_LOAD"))
	if err != nil {
		t.Skip("set HLWASM_LOAD=<duration per measurement> to measure")
	}
	tenants := []Tenant{{Name: "load", Tokens: []string{"tok"}, MaxConcurrency: 8, QueueWait: Duration(time.Second)}}
	ts := newTestServer(t, Config{Tenants: tenants})
	hash := upload(t, ts, "tok", "arith.wasm")
	url := ts.url + "/v1/modules/" + hash + "/call/i32_add"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	httpCall := func() error {
		req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte("[2,3]")))
		req.Header.Set("Authorization", "Bearer tok")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(b, []byte(`[5]`)) {
			return fmt.Errorf("%d %s", res.StatusCode, b)
		}
		return nil
	}
	rt, err := host.NewRuntime(context.Background(), host.Config{PoolSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	mod, err := rt.LoadModule(context.Background(), fixture(t, "arith.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(context.Background())
	directCall := func() error {
		res, err := mod.Call(context.Background(), "i32_add", 2, 3)
		if err == nil && res[0] != 5 {
			err = fmt.Errorf("got %v", res)
		}
		return err
	}
	for _, c := range []int{1, 2, 8} {
		for _, m := range []struct {
			name string
			fn   func() error
		}{{"http", httpCall}, {"in-process", directCall}} {
			rps, p50, p99, err := measure(c, per, m.fn)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-10s clients=%d  %7.0f req/s  p50 %7.1f µs  p99 %7.1f µs", m.name, c, rps, us(p50), us(p99))
		}
	}
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

// TestLoadFaults is a bounded fault-injection run (same HLWASM_LOAD gate): 8 clients mixing
// good calls with traps, deadlines and clients that disconnect mid-call, checking that no
// response is a 5xx, that good calls still answer correctly, and that sandboxes are not leaked.
func TestLoadFaults(t *testing.T) {
	per, err := time.ParseDuration(os.Getenv("HLWASM_LOAD"))
	if err != nil {
		t.Skip("set HLWASM_LOAD=<duration> to run")
	}
	tenants := []Tenant{{Name: "load", Tokens: []string{"tok"}, MaxConcurrency: 4, QueueWait: Duration(50 * time.Millisecond)}}
	ts := newTestServer(t, Config{Tenants: tenants})
	arith := upload(t, ts, "tok", "arith.wasm")
	traps := upload(t, ts, "tok", "traps.wasm")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	type kind struct {
		name, url, body, want string
		abortAfter            time.Duration
	}
	kinds := []kind{
		{"ok", "/v1/modules/" + arith + "/call/i32_add", "[2,3]", `"results":[5]`, 0},
		{"trap", "/v1/modules/" + traps + "/call/div_zero", "", `"outcome":"trap"`, 0},
		{"oob", "/v1/modules/" + traps + "/call/oob_store", "", `"outcome":"trap"`, 0},
		{"deadline", "/v1/modules/" + traps + "/call/spin?timeout=5ms", "", `"outcome":"deadline"`, 0},
		{"disconnect", "/v1/modules/" + traps + "/call/spin?timeout=1s", "", "", 3 * time.Millisecond},
	}
	weights := []int{85, 5, 5, 3, 2}
	var mu sync.Mutex
	counts := map[string]int{}
	var okLat []time.Duration
	var failures []string
	end := time.Now().Add(per)
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(end); i++ {
				n, k := i*7919%100, 0
				for acc := weights[0]; n >= acc; acc += weights[k] {
					k++
				}
				kd := kinds[k]
				ctx, cancel := context.WithCancel(context.Background())
				if kd.abortAfter > 0 {
					time.AfterFunc(kd.abortAfter, cancel)
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+kd.url, bytes.NewReader([]byte(kd.body)))
				req.Header.Set("Authorization", "Bearer tok")
				t0 := time.Now()
				res, err := client.Do(req)
				var b []byte
				if err == nil {
					b, _ = io.ReadAll(res.Body)
					res.Body.Close()
				}
				d := time.Since(t0)
				cancel()
				mu.Lock()
				switch {
				case kd.abortAfter > 0 && err != nil:
					counts["disconnected"]++
				case err != nil:
					failures = append(failures, kd.name+": "+err.Error())
				case res.StatusCode == 429:
					counts["429"]++
				case res.StatusCode >= 500 || res.StatusCode != 200 || !bytes.Contains(b, []byte(kd.want)):
					failures = append(failures, fmt.Sprintf("%s: %d %s", kd.name, res.StatusCode, b))
				default:
					counts[kd.name]++
					if kd.name == "ok" {
						okLat = append(okLat, d)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %s", len(failures), failures[0])
	}
	slices.Sort(okLat)
	t.Logf("outcomes in %v: %v", per, counts)
	if len(okLat) > 0 {
		t.Logf("good calls: %.0f/s, p50 %.1f µs, p99 %.1f µs", float64(len(okLat))/per.Seconds(), us(okLat[len(okLat)/2]), us(okLat[len(okLat)*99/100]))
	}
	// Sandboxes: at most the pool size per module once the dust settles.
	time.Sleep(200 * time.Millisecond)
	r := do(t, "GET", ts.url+"/metrics", "", nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, "hlwasm_sandboxes") || strings.HasPrefix(line, "hlwasm_rejected_total") {
			t.Log(line)
		}
	}
}
