// Command gobig is a deliberately dependency-heavy Go program, built with
// GOOS=wasip1 GOARCH=wasm into a multi-MiB Wasm module that the module-load benchmark
// (BenchmarkCompileGoModule in bench/bench_test.go) compiles. It is never meant to be useful:
// it only has to pull in a realistic amount of the standard library (encoding/json, regexp,
// net/url, time, crypto) so that the module looks like a typical Go-built guest.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

type record struct {
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

func main() {
	var r record
	if err := json.Unmarshal([]byte(`{"name":"x","tags":["a","b"],"attrs":{"k":"v"}}`), &r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s has %d tags\n", r.Name, len(r.Tags))
	re := regexp.MustCompile(`(\w+) has (\d+)`)
	fmt.Print(re.ReplaceAllString(buf.String(), "$2 $1"))
	fmt.Printf("%x\n", sha256.Sum256(buf.Bytes()))
	u, _ := url.Parse("https://example.com/a/b?q=" + url.QueryEscape(strings.Join(r.Tags, ",")))
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"url": u.String(), "t": time.Unix(0, 0).UTC()})
}
