package spectest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/machine"
)

// faultyBackend wraps wazero and breaks one thing, to show the runner notices.
type faultyBackend struct {
	WazeroBackend
	fault string
}

func (b faultyBackend) NewStore(ctx context.Context) (Store, error) {
	s, err := b.WazeroBackend.NewStore(ctx)
	return &faultyStore{wazeroStore: s.(*wazeroStore), fault: b.fault}, err
}

type faultyStore struct {
	*wazeroStore
	fault string
}

func (s *faultyStore) Invoke(ctx context.Context, inst Instance, export string, params []uint64) ([]uint64, error) {
	res, err := s.wazeroStore.Invoke(ctx, inst, export, params)
	switch s.fault {
	case "flip":
		if len(res) > 0 {
			res[0] ^= 1
		}
	case "trapmsg":
		if errors.Is(err, machine.ErrTrap) {
			err = wazeroTrap{msgs: []string{"unreachable executed"}, err: err}
		}
	case "nan":
		// Canonical NaNs become arithmetic NaNs with a payload.
		for i, v := range res {
			if v == 0x7fc00000 || v == 0xffc00000 {
				res[i] = v | 1
			}
		}
	}
	return res, err
}

func (s *faultyStore) InstantiateAs(ctx context.Context, wasm []byte, name string) (Instance, error) {
	inst, err := s.wazeroStore.InstantiateAs(ctx, wasm, name)
	if s.fault == "noclass" && err != nil {
		err = errors.New(err.Error())
	}
	return inst, err
}

func (s *faultyStore) Instantiate(ctx context.Context, wasm []byte) (Instance, error) {
	return s.InstantiateAs(ctx, wasm, "")
}

func TestRunnerNoticesFaults(t *testing.T) {
	dir, err := SuiteDir("v2")
	if err != nil {
		t.Fatal(err)
	}
	count := func(file string, pred func(c *command) bool) int {
		tf, err := loadTestFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range tf.Commands {
			if pred(&tf.Commands[i]) {
				n++
			}
		}
		return n
	}
	hasNaN := func(c *command, pattern string) bool {
		for _, e := range c.Expected {
			if strings.Contains(string(e.Value), pattern) {
				return true
			}
		}
		return false
	}
	tests := []struct {
		fault, file string
		want        func(c *command) bool // the commands that must fail
	}{
		{"flip", "i32.json", func(c *command) bool { return c.Type == "assert_return" && len(c.Expected) > 0 }},
		{"trapmsg", "i32.json", func(c *command) bool { return c.Type == "assert_trap" }},
		{"trapmsg", "call.json", func(c *command) bool {
			return c.Type == "assert_trap" || c.Type == "assert_exhaustion"
		}},
		{"nan", "f32.json", func(c *command) bool { return c.Type == "assert_return" && hasNaN(c, nanCanonical) }},
		{"noclass", "binary.json", func(c *command) bool {
			return c.ModuleType == "binary" && (c.Type == "assert_malformed" || c.Type == "assert_invalid")
		}},
		{"noclass", "linking.json", func(c *command) bool {
			return c.Type == "assert_unlinkable" || c.Type == "assert_uninstantiable" && c.Text != "out of bounds table access"
		}},
	}
	for _, tt := range tests {
		want := count(tt.file, tt.want)
		if want == 0 {
			t.Fatalf("%s/%s: nothing to break", tt.fault, tt.file)
		}
		res, err := RunFile(context.Background(), faultyBackend{WazeroBackend{api.CoreFeaturesV2}, tt.fault}, dir, tt.file, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != want {
			t.Errorf("fault %s on %s: %d failed, want %d\n%s", tt.fault, tt.file, res.Failed, want, strings.Join(res.Failures, "\n"))
		}
	}
}

func TestMatchNaN(t *testing.T) {
	tests := []struct {
		pattern string
		bits    int
		v       uint64
		want    bool
	}{
		{nanCanonical, 32, 0x7fc00000, true},
		{nanCanonical, 32, 0xffc00000, true},
		{nanCanonical, 32, 0x7fc00001, false},
		{nanCanonical, 32, 0x7f800000, false},
		{nanArithmetic, 32, 0x7fc00001, true},
		{nanArithmetic, 32, 0xffffffff, true},
		{nanArithmetic, 32, 0x7fa00000, false}, // signalling
		{nanArithmetic, 32, 0x3fc00000, false},
		{nanCanonical, 64, 0x7ff8000000000000, true},
		{nanCanonical, 64, 0xfff8000000000000, true},
		{nanCanonical, 64, 0x7ff8000000000001, false},
		{nanArithmetic, 64, 0xfff8000000000abc, true},
		{nanArithmetic, 64, 0x7ff4000000000000, false},
		{nanArithmetic, 64, 0x7ff0000000000000, false},
	}
	for _, tt := range tests {
		if got := matchNaN(tt.pattern, tt.v, tt.bits); got != tt.want {
			t.Errorf("matchNaN(%s, %#x) = %v", tt.pattern, tt.v, got)
		}
	}
}

func TestSlots(t *testing.T) {
	v := func(typ, lane, raw string) value { return value{Type: typ, LaneType: lane, Value: []byte(raw)} }
	args, err := encodeArgs([]value{
		v("i32", "", `"4294967295"`),
		v("i64", "", `"-1"`),
		v("externref", "", `"null"`),
		v("externref", "", `"0"`),
		v("funcref", "", `"null"`),
		v("v128", "i8", `["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","255"]`),
		v("v128", "i64", `["1","18446744073709551615"]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0xffffffff, 0xffffffffffffffff, 0, 1, 0, 0x0807060504030201, 0xff0f0e0d0c0b0a09, 1, 0xffffffffffffffff}
	if len(args) != len(want) {
		t.Fatalf("got %x, want %x", args, want)
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("slot %d: got %#x, want %#x", i, args[i], want[i])
		}
	}
	for _, bad := range []value{v("i32", "", `"4294967296"`), v("v128", "i32", `["1"]`), v("f32", "", ``), v("funcref", "", `"1"`), v("v999", "", `"1"`)} {
		if _, err := encodeArgs([]value{bad}); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}

	exps := []value{
		v("f32", "", `"nan:canonical"`),
		v("v128", "f32", `["nan:arithmetic","0","2147483648","1065353216"]`),
		v("externref", "", ``),
		v("externref", "", `"5"`),
		v("funcref", "", `"null"`),
		v("i32", "", `"1"`),
	}
	good := []uint64{0xffc00000, 0x00000000_7fc00123, 0x3f800000_80000000, 7, 6, 0, 0xdead00000001}
	if ok, desc, err := matchResults(exps, good); !ok || err != nil {
		t.Errorf("good results rejected: %s %v", desc, err)
	}
	for i := range good {
		bad := append([]uint64(nil), good...)
		bad[i] ^= 0x400000 // quiet bit of an f32 / a bit of each other value
		if i == 3 || i == 5 {
			bad[i] = 1 - bad[i]%2 // null <-> non-null
		}
		if ok, desc, _ := matchResults(exps, bad); ok {
			t.Errorf("slot %d corrupted, still matched: %s", i, desc)
		}
	}
	if ok, _, _ := matchResults(exps, good[:3]); ok {
		t.Error("short results matched")
	}
}

func TestCheckTrap(t *testing.T) {
	ge := &machine.GuestError{Status: abi.StatusTrap, Trap: abi.TrapUninitializedElement}
	for _, want := range []string{"uninitialized element", "uninitialized", "uninitialized element 2"} {
		if o, d := checkTrap(ge, want); o != pass {
			t.Errorf("%q: %s", want, d)
		}
	}
	for _, want := range []string{"undefined element", "uninitialized element x"} {
		if o, _ := checkTrap(ge, want); o != fail {
			t.Errorf("%q matched %v", want, ge)
		}
	}
	if o, _ := checkTrap(errors.New("uninitialized element"), "uninitialized element"); o != fail {
		t.Error("a non-trap error matched")
	}
	if o, _ := checkTrap(&machine.GuestError{Status: abi.StatusTrap, Trap: abi.TrapUnreachable, Msg: "unreachable executed"}, "unreachable"); o != pass {
		t.Error("engine message with details did not match")
	}
}

// TestDeviationsFile checks spec-*-superseded.txt (shared with the hosted C runner) parse,
// and the parser's refusals.
func TestDeviationsFile(t *testing.T) {
	for _, suite := range []string{"v1", "v2", "typed-function-references"} {
		m, err := superseded(suite)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Fatalf("spec-%s-superseded.txt lists no commands", suite)
		}
	}
	for _, bad := range []string{"data.json 2.0: x", "data.json:0 x", "data.wast:3 x", "data.json:3", "*.json x", "a.json:1 x\na.json:1 y"} {
		if _, err := parseDeviations(bad); err == nil {
			t.Errorf("parseDeviations(%q) accepted", bad)
		}
	}
	if m, err := parseDeviations("# c\n\n  a.json:7   why  not \n"); err != nil || m["a.json:7"] != "why  not" {
		t.Errorf("parseDeviations: %v %q", m, err)
	}
}
