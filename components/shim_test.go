package components

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

func TestTrampolineSlot(t *testing.T) {
	for _, c := range []struct {
		body []byte
		slot uint32
		ok   bool
	}{
		{[]byte{0, 0x20, 0, 0x20, 1, 0x41, 5, 0x11, 3, 0, 0x0b}, 5, true},
		{[]byte{0, 0x41, 0x80, 0x01, 0x11, 0, 0, 0x0b}, 128, true},
		{[]byte{1, 1, 0x7f, 0x41, 5, 0x11, 3, 0, 0x0b}, 0, false},          // a local
		{[]byte{0, 0x20, 1, 0x20, 0, 0x41, 5, 0x11, 3, 0, 0x0b}, 0, false}, // parameters reordered
		{[]byte{0, 0x41, 5, 0x11, 3, 1, 0x0b}, 0, false},                   // another table
		{[]byte{0, 0x41, 5, 0x11, 3, 0, 0x0b, 0x0b}, 0, false},             // trailing code
		{[]byte{0, 0x41, 5, 0x10, 3, 0x0b}, 0, false},                      // a direct call
		{[]byte{0, 0x41, 0x7f, 0x11, 3, 0, 0x0b}, 0, false},                // a negative slot
		{[]byte{0, 0x41, 5, 0x11}, 0, false},                               // truncated
	} {
		slot, ok := trampolineSlot(c.body)
		require.Equal(t, c.ok, ok, "%x", c.body)
		require.Equal(t, c.slot, slot, "%x", c.body)
	}
}

// TestBypassShims: the adapter calls its WASI imports directly, not through the shim.
func TestBypassShims(t *testing.T) {
	b, err := os.ReadFile("../tests/testdata/wasi/p2prog.component.wasm")
	require.NoError(t, err)
	l, err := planLink(b)
	require.NoError(t, err)
	require.True(t, l.OneMemory)
	run, ok := l.RunExport()
	require.True(t, ok)
	ci, err := parseCore(l.Parts[run.Part].Wasm)
	require.NoError(t, err)
	canon := 0
	for _, im := range ci.imports {
		if im[0] == CanonModule {
			canon++
		} else {
			require.Contains(t, []string{"memory", "_start"}, im[1], "%v", im)
		}
	}
	require.Positive(t, canon)
}

// TestCommandHostUnsupported: a WASI function hlwasm does not implement is named at load.
func TestCommandHostUnsupported(t *testing.T) {
	w, err := wit.Load(strings.NewReader(`package wasi:sockets@0.2.0;
interface tcp { connect: func(port: u16) -> u32; }
world w { import tcp; }`), "w")
	require.NoError(t, err)
	l := &Link{World: w, Canon: []Canon{{Kind: CanonLower, Func: "wasi:sockets/tcp@0.2.0#connect"}}}
	_, err = newCommandHost(l, wasi.Config{})
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorContains(t, err, "wasi:sockets/tcp@0.2.0#connect")
}
