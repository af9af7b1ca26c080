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

// spec-v2-superseded.txt: the same for the 2.0 suite, whose expectations 3.0 changed where the
// engine implements a 3.0 proposal (multi-memory, GC).
//
//go:embed spec-v2-superseded.txt
var v2SupersededText string

// spec-typed-function-references-superseded.txt: the same for wazero's typed function
// references suite, whose expectations GC (3.0) changed.
//
//go:embed spec-typed-function-references-superseded.txt
var tfrSupersededText string

var tfrSuperseded = sync.OnceValues(func() (map[string]string, error) {
	return parseDeviations(tfrSupersededText)
})

// v1Superseded is spec-v1-superseded.txt parsed: "FILE.json:LINE" -> reason.
var v1Superseded = sync.OnceValues(func() (map[string]string, error) {
	return parseDeviations(v1SupersededText)
})

// v2Superseded is spec-v2-superseded.txt parsed.
var v2Superseded = sync.OnceValues(func() (map[string]string, error) {
	return parseDeviations(v2SupersededText)
})

// superseded returns the deviations list of a suite ("v1", "v2", "typed-function-references"), or nil.
func superseded(suite string) (map[string]string, error) {
	switch suite {
	case "v1":
		return v1Superseded()
	case "v2":
		return v2Superseded()
	case "typed-function-references":
		return tfrSuperseded()
	}
	return nil, nil
}

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
			return nil, fmt.Errorf("superseded list line %d: want \"FILE.json:LINE reason\", have %q", i+1, line)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("superseded list line %d: %s listed twice", i+1, key)
		}
		m[key] = reason
	}
	return m, nil
}
