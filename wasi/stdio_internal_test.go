package wasi

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"
)

// TestStreamRegistryForgets: streams nobody refers to leave the registry (a service making a
// WithStdio context per request must not grow it forever).
func TestStreamRegistryForgets(t *testing.T) {
	size := func() int {
		streams.mu.Lock()
		defer streams.mu.Unlock()
		return len(streams.m)
	}
	before := size()
	for range 1000 {
		_ = WithStdio(context.Background(), Stdio{Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer)})
	}
	if size() < before+1000 {
		t.Fatalf("registry has %d entries, want at least %d", size(), before+1000)
	}
	for deadline := time.Now().Add(5 * time.Second); size() > before+100; {
		if time.Now().After(deadline) {
			t.Fatalf("registry still has %d entries (%d before)", size(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// A shared writer is one stream.
	var b bytes.Buffer
	first, again := streamOf(&b, true), streamOf(&b, true)
	if first != again || first == streamOf(&b, false) {
		t.Fatal("one stream per writer and direction")
	}
}
