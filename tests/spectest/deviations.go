package spectest

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// spec-v1-superseded.txt lists the 1.0 suite's commands whose expectations 2.0 changed; the
// engine implements 2.0. The hosted C runner (wasmguest/hosted, make spec-v1) reads the same
// file as a skip list.
//
//go:embed spec-v1-superseded.txt
var v1SupersededText string

// v1Superseded is spec-v1-superseded.txt parsed: "FILE.json:LINE" -> reason.
var v1Superseded = sync.OnceValues(func() (map[string]string, error) {
	return parseDeviations(v1SupersededText)
})

// parseDeviations reads the skip-list format of wasmguest/hosted's runner restricted to single
// commands: one "FILE.json:LINE reason" per line; blank lines and # comments are ignored.
func parseDeviations(text string) (map[string]string, error) {
	m := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		file, num, ok := strings.Cut(key, ":")
		n, err := strconv.Atoi(num)
		if !ok || !strings.HasSuffix(file, ".json") || err != nil || n <= 0 || reason == "" {
			return nil, fmt.Errorf("spec-v1-superseded.txt:%d: want \"FILE.json:LINE reason\", have %q", i+1, line)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("spec-v1-superseded.txt:%d: %s listed twice", i+1, key)
		}
		m[key] = reason
	}
	return m, nil
}
