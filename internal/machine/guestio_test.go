package machine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/wasi"
)

// TestGuestIOThroughTheMachine: stdio.wasm's small writes are answered by the guest (its
// counter moves, no output before the request ends), the output is complete when the request
// ends; a batch length the guest lies about fails the next request with ErrGuestFault, and a
// fresh machine is unaffected.
func TestGuestIOThroughTheMachine(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	wasm, err := os.ReadFile("../../tests/testdata/wasi/stdio.wasm")
	if err != nil {
		t.Fatal(err)
	}
	info, err := wasmbin.Parse(wasm)
	if err != nil {
		t.Fatal(err)
	}
	hello, _, ok := info.ExportedFunc("hello")
	if !ok {
		t.Fatal("stdio.wasm has no hello")
	}
	boot := func(out *bytes.Buffer) (*Machine, uint32, *wasi.Instance) {
		wi, err := wasi.NewInstance(wasi.Config{Stdout: out})
		if err != nil {
			t.Fatal(err)
		}
		wi.EnableBuffering()
		m, err := New(ctx, Config{KVM: k})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		funcs := append(wi.Functions(), api.HostFunction{ModuleName: "hlwasm", Name: "log",
			ParamTypes: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32},
			Fn:         func(context.Context, api.Memory, []uint64) error { return nil }})
		if err := m.DefineHost(ctx, funcs); err != nil {
			t.Fatal(err)
		}
		g := &GuestIO{WriteFunc: ^uint32(0), ReadFunc: ^uint32(0), Drain: wi.GuestDrain, Publish: wi.GuestPublish}
		for i, f := range funcs {
			switch f.Name {
			case "fd_write":
				g.WriteFunc = uint32(i)
			case "fd_read":
				g.ReadFunc = uint32(i)
			}
		}
		m.SetGuestIO(g)
		inst, err := m.Load(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		return m, inst, wi
	}
	var out bytes.Buffer
	m, inst, wi := boot(&out)
	if _, err := m.Call(ctx, inst, uint32(hello), []uint64{20}, 0); err != nil {
		t.Fatal(err)
	}
	if err := wi.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("hello from wasm\n", 20); out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	if n := m.Stats().IOLocal; n < 19 {
		t.Fatalf("the guest answered %d writes itself, want at least 19", n)
	}
	// The guest claims a batch larger than the IO region: the request fails, nothing is written.
	binary.LittleEndian.PutUint32(m.mb[abi.MbIOBatchLen:], abi.IOBatchSize+100)
	binary.LittleEndian.PutUint32(m.mb[abi.MbIOBatchKind:], abi.IOKindStdout)
	out.Reset()
	_, err = m.Call(ctx, inst, uint32(hello), []uint64{3}, 0)
	if !errors.Is(err, ErrGuestFault) || !errors.Is(err, wasi.ErrGuestIO) {
		t.Fatalf("call after a lie: %v, want ErrGuestFault wrapping wasi.ErrGuestIO", err)
	}
	_ = wi.Flush(ctx)
	if out.Len() != 0 {
		t.Fatalf("a lie wrote %q", out.String())
	}
	var out2 bytes.Buffer
	m2, inst2, wi2 := boot(&out2)
	if _, err := m2.Call(ctx, inst2, uint32(hello), []uint64{2}, 0); err != nil {
		t.Fatal(err)
	}
	_ = wi2.Flush(ctx)
	if out2.String() != "hello from wasm\nhello from wasm\n" {
		t.Fatalf("another machine's output %q", out2.String())
	}
}
