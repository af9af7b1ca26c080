package machine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unsafe"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// The reply decoders (replyError, results, memoryWindow, serveHostCall, the panic exit's
// message) read only the mailbox, the host function table and the size of guest memory, so the
// fuzz target runs them on a Machine without a VM: a real one per input would cost a VM
// creation and boot (milliseconds) and be unusable after the first protocol violation.
// No code of machine.go is changed for it; the seeds in testdata/fuzz/FuzzMailbox are mailbox
// pages captured from a real guest (TestWriteMailboxSeeds).

// The default layout, with room for the bench module's memory (the seeds' windows); the pages
// stay untouched (zero) but for the mailbox and the bytes host functions read.
const fuzzXfer = defaultXfer

var fuzzMem = make([]byte, 128<<20) // shared by all inputs

// fuzzHostFuncs (env.add first, as the seeds' guest imports it) have signatures with 0, 1, 2 and MaxValues values, so that fuzzed counts can
// match one; each checks the window it is given and touches both of its ends.
func fuzzHostFuncs(calls *int) []api.HostFunction {
	i32 := api.ValueTypeI32
	many := make([]api.ValueType, abi.MaxValues)
	for i := range many {
		many[i] = api.ValueTypeI64
	}
	fn := func(ctx context.Context, mem api.Memory, stack []uint64) error {
		*calls++
		if mem != nil {
			if n := mem.Size(); n > 0 {
				if _, ok := mem.Read(0, 1); !ok {
					return errors.New("first byte unreadable")
				}
				if _, ok := mem.Read(uint32(n-1), 1); !ok {
					return errors.New("last byte unreadable")
				}
			}
		}
		for i := range stack {
			stack[i]++
		}
		return nil
	}
	return []api.HostFunction{
		{ModuleName: "env", Name: "add", ParamTypes: []api.ValueType{i32, i32}, ResultTypes: []api.ValueType{i32}, Fn: fn},
		{ModuleName: "env", Name: "nop", Fn: fn},
		{ModuleName: "env", Name: "many", ParamTypes: many, ResultTypes: many, Fn: fn},
		{ModuleName: "env", Name: "fails", ParamTypes: []api.ValueType{i32}, Fn: func(context.Context, api.Memory, []uint64) error {
			return errors.New("fails")
		}},
	}
}

func decoderMachine(mailbox []byte, defs []api.HostFunction) *Machine {
	m := &Machine{cfg: Config{XferBytes: fuzzXfer}, mem: fuzzMem, hostFuncs: defs}
	m.mb = m.mem[abi.MailboxAddr : abi.MailboxAddr+abi.MailboxSize]
	clear(m.mb)
	copy(m.mb, mailbox)
	return m
}

// inside reports whether mem is a view of the guest heap.
func inside(mem api.Memory) bool {
	v, ok := mem.(*guestView)
	if !ok {
		return false
	}
	b := v.b
	if len(b) == 0 {
		return true
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	start := uintptr(unsafe.Pointer(&fuzzMem[0]))
	return p >= start+abi.XferAddr+fuzzXfer && p+uintptr(len(b)) <= start+uintptr(len(fuzzMem))
}

// FuzzMailbox fills the mailbox page with fuzz bytes, as a compromised guest could, and runs
// every decoder of guest-written fields on it: none may panic or allocate by a guest count,
// and each either accepts fields in range or fails with ErrGuestFault (marking the machine
// unusable). want is the result count the caller expects.
// Run: go test ./internal/machine -run '^$' -fuzz FuzzMailbox -fuzztime 1m
func FuzzMailbox(f *testing.F) {
	f.Add(make([]byte, abi.MailboxSize), uint8(1))
	f.Fuzz(func(t *testing.T, mailbox []byte, want uint8) {
		nwant := int(want) % (abi.MaxValues + 1)

		m := decoderMachine(mailbox, nil)
		st := m.get32(abi.MbRepStatus)
		err := m.replyError()
		var ge *GuestError
		switch {
		case err == nil:
			if st != abi.StatusOK {
				t.Fatalf("status %d accepted as OK", st)
			}
		case errors.As(err, &ge):
			if ge.Status != st || st > abi.StatusUnsupported || len(ge.Msg) > abi.MsgMax ||
				(st == abi.StatusTrap && (ge.Trap == abi.TrapNone || ge.Trap >= abi.TrapCount)) || m.broken != nil {
				t.Fatalf("bad guest error %+v for status %d", ge, st)
			}
			_ = ge.Error()
		case errors.Is(err, ErrGuestFault) && m.broken != nil:
		default:
			t.Fatalf("replyError: %v", err)
		}

		m = decoderMachine(mailbox, nil)
		res, err := m.results(nwant)
		if err == nil && len(res) != nwant || err != nil && (!errors.Is(err, ErrGuestFault) || m.broken == nil) {
			t.Fatalf("results(%d) = %d values, %v", nwant, len(res), err)
		}

		// Machine.Memory: the window the guest reports in the first two result slots.
		m = decoderMachine(mailbox, nil)
		mem, err := m.memoryWindow(m.get64(abi.MbRepResults), m.get64(abi.MbRepResults+8))
		if err == nil && mem != nil && !inside(mem) || err != nil && !errors.Is(err, ErrGuestFault) {
			t.Fatalf("memoryWindow: %v", err)
		}

		calls := 0
		m = decoderMachine(mailbox, fuzzHostFuncs(&calls))
		m.serveHostCall(context.Background())
		status := m.get32(abi.MbHostStatus)
		switch {
		case status == 0 && m.hostErr == nil && calls == 1:
		case status == 1 && m.hostErr != nil && calls <= 1:
			var he *HostError
			if !errors.Is(m.hostErr, ErrGuestFault) && !errors.As(m.hostErr, &he) {
				t.Fatalf("host call failed with %v", m.hostErr)
			}
			if errors.As(m.hostErr, &he) && he.Func != "env.fails" {
				t.Fatalf("host function failed: %v", m.hostErr)
			}
		default:
			t.Fatalf("host call: status %d, %d calls, error %v", status, calls, m.hostErr)
		}

		m = decoderMachine(mailbox, nil)
		err = m.exitError(vmm.Exit{Reason: vmm.ExitIO, Out: true, Port: abi.PortPanic})
		if !errors.Is(err, ErrGuestFault) || len(err.Error()) > abi.MsgMax+100 {
			t.Fatalf("panic exit: %v", err)
		}
	})
}

// TestWriteMailboxSeeds captures the mailbox of a real guest at each point the host decodes
// it (a call's reply, a trap, a host call, a memory window) and writes the pages as
// FuzzMailbox's seed corpus. Run with HLWASM_WRITE_SEEDS=1 after an ABI change.
func TestWriteMailboxSeeds(t *testing.T) {
	if os.Getenv("HLWASM_WRITE_SEEDS") != "1" {
		t.Skip("HLWASM_WRITE_SEEDS=1 rewrites testdata/fuzz/FuzzMailbox")
	}
	k := requireKVM(t)
	ctx := context.Background()
	m, err := New(ctx, Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	seeds := map[string][]byte{}
	capture := func(name string) func([]byte) {
		return func(mb []byte) { seeds[name] = append([]byte(nil), mb...) }
	}
	f := fuzzHostFuncs(new(int))[0] // env.add, as the bench module imports it
	f.Fn = func(_ context.Context, _ api.Memory, stack []uint64) error {
		seeds["hostcall"] = append([]byte(nil), m.mb...)
		stack[0] = uint64(uint32(stack[0]) + uint32(stack[1]))
		return nil
	}
	if err := m.DefineHost(ctx, []api.HostFunction{f}); err != nil {
		t.Fatal(err)
	}
	tamperReply = capture("load")
	defer func() { tamperReply = nil }()
	wasm, err := os.ReadFile("../bench/modules/bench.wasm")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := m.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	tamperReply = capture("call")
	if _, err := m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1); err != nil {
		t.Fatal(err)
	}
	tamperReply = capture("hostloop")
	if _, err := m.Call(ctx, inst, 3, []uint64{2}, 1); err != nil {
		t.Fatal(err)
	}
	tamperReply = capture("memory")
	if _, err := m.Memory(ctx, inst); err != nil {
		t.Fatal(err)
	}
	tamperReply = capture("trap")
	if _, err := m.Call(ctx, inst, benchDirty, []uint64{1 << 20}, 1); !errors.Is(err, ErrTrap) {
		t.Fatalf("dirty(1<<20): %v, want a trap", err)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzMailbox")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mb := range seeds {
		mb = bytes.TrimRight(mb, "\x00") // decoderMachine zero-fills the rest
		want := 1
		if name == "memory" {
			want = 2
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nuint8(%d)\n", strconv.Quote(string(mb)), want)
		if err := os.WriteFile(filepath.Join(dir, "real-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(seeds) != 6 {
		t.Fatalf("captured %d mailboxes, want 6", len(seeds))
	}
}
