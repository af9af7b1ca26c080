package host_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/stretchr/testify/require"
)

// WIT through sandboxes: string and list results of host imports are lowered into guest memory
// the guest allocates with cabi_realloc, a nested call made while the host function runs.
func TestWITNestedRealloc(t *testing.T) {
	engines(t, func(t *testing.T, e host.Engine) {
		testWITNested(t, e, 0)
		if e == host.EngineMicroVM {
			testWITNested(t, e, time.Millisecond) // host calls and nested calls without exits
		}
	})
}

func testWITNested(t *testing.T, e host.Engine, spin time.Duration) {
	{
		ctx := context.Background()
		c, err := components.Decode(fixture(t, "wit/rt.component.wasm"), "")
		require.NoError(t, err)
		w := c.World
		impls := w.TraceImports(io.Discard) // every import, answering zero values
		impls["test:rt/host@0.1.0#echo-string"] = func(s string) string { return strings.ToUpper(s) }
		impls["test:rt/host@0.1.0#echo-strings"] = func(s []string) []string { return append(s, "host") }
		funcs, err := w.Bind(impls)
		require.NoError(t, err)
		rt := newRuntime(t, host.Config{Engine: e, HostFunctions: funcs, Spin: spin})
		sb := sandbox(t, rt, c.Core)
		for i := 0; i < 3; i++ {
			out, err := w.CallWAVE(ctx, sb, "test:rt/guest@0.1.0#echo-string", []string{`"héllo, vm"`})
			require.NoError(t, err)
			require.Equal(t, `"HÉLLO, VM"`, out)
		}
		out, err := w.CallWAVE(ctx, sb, "test:rt/guest@0.1.0#echo-strings", []string{`["a", "bc"]`})
		require.NoError(t, err)
		require.Equal(t, `["a", "bc", "host"]`, out)
	}
}
