package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/internal/machine"
)

var binary string

// TestMain builds the real binary once; the tests exec it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hlwasm-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "hlwasm")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireKVM(t *testing.T) {
	if !machine.KVMAvailable() {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip("HLWASM_SKIP_KVM=1 and /dev/kvm is not usable")
		}
		t.Fatal("/dev/kvm is not usable (set HLWASM_SKIP_KVM=1 to skip)")
	}
}

func hlwasm(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

const td = "../../tests/testdata/"

func TestCall(t *testing.T) {
	requireKVM(t)
	for _, c := range []struct {
		args   []string
		stdout string
		stderr string
		code   int
	}{
		{[]string{td + "arith.wasm", "i32_add", "2", "3"}, "5\n", "", 0},
		{[]string{td + "arith.wasm", "i32_sub", "2", "3"}, "-1\n", "", 0},
		{[]string{td + "arith.wasm", "i32_add", "0xffffffff", "1"}, "0\n", "", 0},
		{[]string{td + "arith.wasm", "i64_mul", "-3", "0x10"}, "-48\n", "", 0},
		{[]string{td + "arith.wasm", "f64_add", "0.1", "0.2"}, "0.30000000000000004\n", "", 0},
		{[]string{td + "arith.wasm", "f32_add", "inf", "-inf"}, "NaN\n", "", 0},
		{[]string{td + "arith.wasm", "f64_mul", "-inf", "2"}, "-Inf\n", "", 0},
		{[]string{td + "arith.wasm", "f32_add", "0.1", "0.2"}, "0.3\n", "", 0},
		{[]string{td + "arith.wasm", "divmod", "7", "2"}, "3\n1\n", "", 0},
		{[]string{td + "arith.wasm", "swap", "9", "2.5"}, "2.5\n9\n", "", 0},
		{[]string{td + "c_basic.wasm", "fib", "20"}, "6765\n", "", 0},
		{[]string{td + "wasi/reactor-go.wasm", "add", "2", "3"}, "5\n", "", 0},
		{[]string{td + "wasi/reactor-go.wasm", "shout", "2"}, "hey hey\n8\n", "", 0},
		{[]string{td + "traps.wasm", "div_zero"}, "", "trap: integer divide by zero", 1},
		{[]string{td + "traps.wasm", "unreachable"}, "", "trap: unreachable", 1},
		{[]string{"--timeout", "100ms", td + "traps.wasm", "spin"}, "", "timed out", 1},
		{[]string{"--max-memory", "128KiB", td + "traps.wasm", "grow", "1"}, "1\n", "", 0},
		{[]string{"--max-memory", "128KiB", td + "traps.wasm", "grow", "2"}, "-1\n", "", 0},
		{[]string{"--engine", "wazero", td + "arith.wasm", "fac_rec", "20"}, "2432902008176640000\n", "", 0},
		{[]string{"--engine", "wazero", td + "traps.wasm", "div_zero"}, "", "trap: integer divide by zero", 1},
		{[]string{"--engine", "qemu", td + "arith.wasm", "fac_rec", "20"}, "", "unknown engine", 2},
		{[]string{"--tier", "interp", td + "arith.wasm", "fac_rec", "20"}, "2432902008176640000\n", "", 0},
		{[]string{"--tier", "compiled", td + "arith.wasm", "fac_rec", "20"}, "2432902008176640000\n", "", 0},
		{[]string{"--tier", "interp", td + "traps.wasm", "div_zero"}, "", "trap: integer divide by zero", 1},
		{[]string{"--tier", "interp", "--timeout", "100ms", td + "traps.wasm", "spin"}, "", "timed out", 1},
		{[]string{"--tier", "jit", td + "arith.wasm", "fac_rec", "20"}, "", "unknown tier", 2},
		{[]string{td + "arith.wasm", "nope"}, "", "no exported function \"nope\"", 2},
		{[]string{td + "arith.wasm", "i32_add", "1"}, "", "takes 2 arguments", 2},
		{[]string{td + "arith.wasm", "i32_add", "1", "x"}, "", "argument 2 (i32)", 2},
		{[]string{td + "arith.wasm"}, "", "need MODULE.wasm and FUNC", 2},
		{[]string{"--max-memory", "lots", td + "arith.wasm", "i32_add", "1", "2"}, "", "--max-memory", 2},
		{[]string{"--max-sandbox-memory", "lots", td + "arith.wasm", "i32_add", "1", "2"}, "", "--max-sandbox-memory", 2},
		{[]string{"--max-sandbox-memory", "1MiB", td + "arith.wasm", "i32_add", "1", "2"}, "", "memory budget", 1},
		{[]string{"--max-sandbox-memory", "512MiB", td + "arith.wasm", "i32_add", "1", "2"}, "3\n", "", 0},
		{[]string{"--timeout", "0", td + "arith.wasm", "i32_add", "1", "2"}, "3\n", "", 0},
		{[]string{td + "missing.wasm", "f"}, "", "no such file", 2},
		{[]string{td + "malformed/bad_magic.wasm", "f"}, "", "invalid module", 1},
		{[]string{td + "malformed/truncated_code.wasm", "f"}, "", "invalid module", 1},
	} {
		out, errOut, code := hlwasm(t, append([]string{"call"}, c.args...)...)
		name := strings.Join(c.args, " ")
		if code != c.code || out != c.stdout || !strings.Contains(errOut, c.stderr) {
			t.Errorf("hlwasm call %s:\n got code %d stdout %q stderr %q\nwant code %d stdout %q stderr containing %q",
				name, code, out, errOut, c.code, c.stdout, c.stderr)
		}
	}
}

func TestUsage(t *testing.T) {
	_, errOut, code := hlwasm(t)
	if code != 2 || !strings.Contains(errOut, "usage:") {
		t.Fatalf("no args: code %d stderr %q", code, errOut)
	}
	_, _, code = hlwasm(t, "frobnicate")
	if code != 2 {
		t.Fatalf("unknown command: code %d", code)
	}
	// A command's mistake shows that command's synopsis only.
	_, errOut, code = hlwasm(t, "call", "/nonexistent.wasm", "f")
	if code != 2 || !strings.Contains(errOut, "no such file") || !strings.Contains(errOut, "usage:\n  hlwasm call [") ||
		strings.Contains(errOut, "hlwasm run [") || !strings.Contains(errOut, "hlwasm call --help") {
		t.Fatalf("call of a missing file: code %d stderr %q", code, errOut)
	}
}

func TestBenchJSON(t *testing.T) {
	requireKVM(t)
	out, errOut, code := hlwasm(t, "bench", "--json", "--runs", "20", "--cold-runs", "3")
	if code != 0 {
		t.Fatalf("bench: code %d stderr %s", code, errOut)
	}
	want := []string{"floor-create", "floor-exit", "floor-mailbox", "cold", "warm-call", "hot-call"}
	for _, s := range want {
		if !strings.Contains(out, `"scenario":"`+s+`"`) {
			t.Errorf("missing scenario %s in %s", s, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, `{"scenario":`) || !strings.Contains(line, `"p50_ns":`) ||
			!strings.Contains(line, `"p99_ns":`) || !strings.Contains(line, `"ops_per_sec":`) {
			t.Errorf("bad JSON line %q", line)
		}
	}
}

func TestInspect(t *testing.T) {
	out, errOut, code := hlwasm(t, "inspect", td+"hostcall.wasm")
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, errOut)
	}
	for _, want := range []string{"env.add: func (i32, i32) -> (i32)", "hlwasm.log: func (i32, i32) -> ()", "add_loop: func (i32) -> (i32)", "memory: memory 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if _, errOut, code = hlwasm(t, "inspect", td+"malformed/bad_magic.wasm"); code != 1 || errOut == "" {
		t.Errorf("inspect of a malformed module: code %d stderr %q", code, errOut)
	}
}

func TestRun(t *testing.T) {
	requireKVM(t)
	wd := td + "wasi/"
	out, errOut, code := hlwasm(t, "run", "--env", "GREETING=hi", wd+"hello-go.wasm", "a")
	if code != 0 || !strings.Contains(out, "hello, world") || !strings.Contains(out, `arg[1]="a"`) ||
		!strings.Contains(out, `env GREETING="hi" true`) || !strings.Contains(errOut, "to stderr") {
		t.Fatalf("hello-go: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if _, _, code = hlwasm(t, "run", wd+"hello-go.wasm", "exit3"); code != 3 {
		t.Fatalf("exit3: code %d, want the guest's 3", code)
	}
	out, _, code = hlwasm(t, "run", "--dir", wd+"files:/data", wd+"cprog.wasm", "/data/hello.txt")
	if code != 0 || !strings.Contains(out, "hello") {
		t.Fatalf("cprog with a preopen: code %d stdout %s", code, out)
	}
	if _, errOut, code = hlwasm(t, "run", "--timeout", "200ms", td+"traps.wasm"); code != 2 || !strings.Contains(errOut, "no _start") {
		t.Fatalf("module without _start: code %d stderr %s", code, errOut)
	}
	if _, errOut, code = hlwasm(t, "run", "--dir", "/nonexistent-dir", wd+"cprog.wasm"); code != 2 {
		t.Fatalf("bad --dir: code %d stderr %s", code, errOut)
	}
}

// TestRunCommand: a wasi:cli/command component runs like its core program as preview1.
func TestRunCommand(t *testing.T) {
	requireKVM(t)
	wd := td + "wasi/"
	want, _, code := hlwasm(t, "run", "--env", "GREETING=hi", "--dir", wd+"files:/data", wd+"cprog.wasm", "/data/hello.txt", "-ls", "/data")
	if code != 0 {
		t.Fatalf("cprog: code %d", code)
	}
	out, errOut, code := hlwasm(t, "run", "--env", "GREETING=hi", "--dir", wd+"files:/data", wd+"cprog.component.wasm", "/data/hello.txt", "-ls", "/data")
	if code != 0 || out != want {
		t.Fatalf("cprog component: code %d\nstdout %s\nwant %s\nstderr %s", code, out, want, errOut)
	}
	// WASI 0.2's exit takes a result: a nonzero status is 1
	if out, _, code = hlwasm(t, "run", wd+"p2prog.component.wasm", "exit", "3"); code != 1 || out != "exiting with 3\n" {
		t.Fatalf("exit 3: code %d stdout %q", code, out)
	}
	if _, errOut, code = hlwasm(t, "run", "--engine", "wazero", wd+"p2prog.component.wasm"); code != 1 || !strings.Contains(errOut, "micro-VM engine only") {
		t.Fatalf("wazero engine: code %d stderr %s", code, errOut)
	}
	if out, _, code = hlwasm(t, "inspect", wd+"p2prog.component.wasm"); code != 0 || !strings.Contains(out, "a wasi:cli/command") ||
		!strings.Contains(out, "4 core modules linked") {
		t.Fatalf("inspect: code %d stdout %s", code, out)
	}
	if _, errOut, code = hlwasm(t, "run", td+"wit/rt.component.wasm"); code != 1 || !strings.Contains(errOut, "not a wasi:cli/command") {
		t.Fatalf("not a command: code %d stderr %s", code, errOut)
	}
}

// TestCallReactor: hlwasm call calls the exports of a component of several core modules (a
// library with the preview1 reactor adapter): WASI output passes through, other imports are
// traced to stderr, a trap is an error.
func TestCallReactor(t *testing.T) {
	requireKVM(t)
	c := td + "wasi/p2reactor.component.wasm"
	if out, errOut, code := hlwasm(t, "call", c, "shout", `"hi"`); code != 0 || out != "shouting 2 bytes\n\"HI\"\n" {
		t.Fatalf("shout: code %d stdout %q stderr %s", code, out, errOut)
	}
	if out, errOut, code := hlwasm(t, "call", c, "relay", `"x"`); code != 0 || out != "0\n" || !strings.Contains(errOut, `note("x")`) {
		t.Fatalf("relay: code %d stdout %q stderr %s", code, out, errOut)
	}
	if _, errOut, code := hlwasm(t, "call", c, "boom"); code != 1 || !strings.Contains(errOut, "unreachable") {
		t.Fatalf("boom: code %d stderr %s", code, errOut)
	}
	if out, _, code := hlwasm(t, "inspect", c); code != 0 || !strings.Contains(out, "a library (hlwasm call") {
		t.Fatalf("inspect: code %d stdout %s", code, out)
	}
}

func TestCallWIT(t *testing.T) {
	requireKVM(t)
	out, errOut, code := hlwasm(t, "call", "--wit", "../../examples/wit/hello.wit", "../../examples/wit/hello.wasm", "run", `"micro-VM"`)
	if code != 0 || out != "\"Hello, micro-VM!\"\n" || !strings.Contains(errOut, `import log("run called")`) {
		t.Fatalf("--wit: code %d stdout %q stderr %q", code, out, errOut)
	}
	// A component carries its world: no --wit needed.
	out, errOut, code = hlwasm(t, "call", td+"wit/rt.component.wasm", "test:rt/guest@0.1.0#echo-point", "{x: 1, y: -2}")
	if code != 0 || out != "{x: 0, y: 0}\n" || !strings.Contains(errOut, "echo-point({x: 1, y: -2})") {
		t.Fatalf("component: code %d stdout %q stderr %q", code, out, errOut)
	}
	if _, errOut, code = hlwasm(t, "call", "--wit", "../../examples/wit/hello.wit", "../../examples/wit/hello.wasm", "run", "not-wave"); code == 0 {
		t.Fatalf("bad WAVE accepted: %s", errOut)
	}
	// Exported resources: a constructor's handle prints; a handle cannot be passed (it lives in
	// the call's sandbox); a guest's bad handle is a trap.
	x := td + "wit/xres.component.wasm"
	if out, errOut, code = hlwasm(t, "call", x, "store#[constructor]counter", "5"); code != 0 || out != "1\n" {
		t.Fatalf("constructor: code %d stdout %q stderr %q", code, out, errOut)
	}
	if _, errOut, code = hlwasm(t, "call", x, "store#[method]counter.get", "1"); code != 2 || !strings.Contains(errOut, "cannot be passed from the command line") {
		t.Fatalf("handle argument: code %d stderr %q", code, errOut)
	}
	if _, errOut, code = hlwasm(t, "call", x, "store#rep-of", "3"); code != 1 || !strings.Contains(errOut, "bad resource handle") {
		t.Fatalf("bad handle: code %d stderr %q", code, errOut)
	}
}

func TestWITBindgen(t *testing.T) {
	out, errOut, code := hlwasm(t, "wit", "bindgen", "--package", "hello", "../../examples/wit/hello.wit")
	if code != 0 || !strings.Contains(out, "package hello") {
		t.Fatalf("bindgen: code %d stderr %s", code, errOut)
	}
}

// TestBenchSmoke runs every `hlwasm bench` scenario once, briefly (--quick), and requires each
// to produce a number: a bench that cannot finish measures nothing. No timing is asserted.
func TestBenchSmoke(t *testing.T) {
	requireKVM(t)
	out, stderr, code := hlwasm(t, "bench", "--quick", "--json", "--resets")
	if code != 0 {
		t.Fatalf("hlwasm bench --quick: exit %d, stderr %q", code, stderr)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Scenario string  `json:"scenario"`
			Engine   string  `json:"engine"`
			P50      int64   `json:"p50_ns"`
			Ops      float64 `json:"ops_per_sec"`
			CPU      *int64  `json:"cpu_ns_per_op"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.P50 <= 0 || r.Ops <= 0 || r.CPU == nil {
			t.Errorf("%s/%s produced no number: %s", r.Scenario, r.Engine, line)
		}
		seen[r.Scenario+"/"+r.Engine] = true
	}
	for _, want := range []string{"floor-create/raw", "floor-exit/raw", "floor-exit-handoff/raw", "floor-mailbox/raw",
		"floor-throughput-1/raw", "floor-throughput-2/raw", "floor-throughput-2-syscall/raw",
		"cold/microvm", "cold-idle/microvm", "cold-spare/microvm", "load/microvm", "warm-call/microvm", "host-call/microvm", "host-call-parked/microvm", "fresh-call/microvm",
		"throughput-1/microvm", "throughput-2/microvm", "hot-call/microvm", "host-call-hot/microvm",
		"cold/wazero", "warm-call/wazero", "host-calls-1000/microvm", "host-calls-1000/wazero",
		"cat-cargo/microvm", "cat-cargo/wazero", "cat-tinygo/microvm", "cat-tinygo/wazero",
		"cat-zig-cc/microvm", "cat-zig-cc/wazero", "reset-call-compare-1/microvm", "reset-call-dirtylog-256/microvm",
		"kernel-fib/hlwasm", "kernel-fib/wazero", "kernel-simd/hlwasm", "kernel-simd/wazero"} {
		if !seen[want] {
			t.Errorf("no result for %s", want)
		}
	}
}

// TestBenchBadFlags: bad bench parameters are usage errors, not empty or broken runs.
func TestBenchBadFlags(t *testing.T) {
	requireKVM(t)
	for _, args := range [][]string{{"--only", "nope"}, {"--runs", "0"}, {"--cold-runs", "-1"}, {"--cat-bytes", "-5"}, {"--cat-runs", "0"}, {"--kernel-runs", "0"}, {"--tier", "jit"}} {
		_, stderr, code := hlwasm(t, append([]string{"bench"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "bench:") {
			t.Errorf("bench %v: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
}

// commands is every command with the arguments before its flags.
var commands = [][]string{{"run"}, {"call"}, {"inspect"}, {"serve"}, {"wit", "bindgen"}, {"bench"}, {"version"}}

// flagsOf lists the flags `hlwasm CMD --help` prints.
func flagsOf(t *testing.T, help string) []string {
	var flags []string
	for _, line := range strings.Split(help, "\n") {
		if strings.HasPrefix(line, "  --") || strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  hlwasm") {
			f := strings.Fields(line)[0]
			flags = append(flags, "-"+strings.TrimLeft(f, "-"))
		}
	}
	return flags
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := hlwasm(t, args...)
		if code != 0 || !strings.Contains(out, "usage:") || errOut != "" {
			t.Errorf("%v: code %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
	for _, c := range commands {
		for _, h := range []string{"--help", "-h"} {
			out, errOut, code := hlwasm(t, append(append([]string{}, c...), h)...)
			if code != 0 || errOut != "" || !strings.Contains(out, "usage:\n  hlwasm "+strings.Join(c, " ")) {
				t.Errorf("%v %s: code %d stdout %q stderr %q", c, h, code, out, errOut)
			}
		}
	}
	out, _, _ := hlwasm(t, "run", "--help")
	for _, f := range []string{"--dir-rw", "--engine-heap", "--max-module-size", "READ-ONLY"} {
		if !strings.Contains(out, f) {
			t.Errorf("run --help does not mention %s:\n%s", f, out)
		}
	}
}

// The README's synopsis and the usage text list every flag of every command.
func TestSynopsisComplete(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	usageOut, _, _ := hlwasm(t, "--help")
	// The README's CLI block: the indented lines after "## CLI".
	_, cli, _ := strings.Cut(string(readme), "## CLI\n")
	var synopsis strings.Builder
	for _, line := range strings.Split(cli, "\n")[1:] {
		if !strings.HasPrefix(line, "    ") {
			break
		}
		synopsis.WriteString(line + "\n")
	}
	section := func(text string, cmd []string) string {
		// from "hlwasm CMD" to the next "hlwasm "
		_, rest, ok := strings.Cut(text, "hlwasm "+strings.Join(cmd, " "))
		if !ok {
			return ""
		}
		if i := strings.Index(rest, "hlwasm "); i >= 0 {
			rest = rest[:i]
		}
		return rest
	}
	for _, c := range commands {
		help, _, _ := hlwasm(t, append(append([]string{}, c...), "--help")...)
		for _, f := range flagsOf(t, strings.SplitN(help, "flags:", 2)[1]) {
			for what, text := range map[string]string{"README": synopsis.String(), "usage": usageOut} {
				s := section(text, c)
				if s == "" {
					t.Errorf("%s has no synopsis of %v", what, c)
					continue
				}
				re := regexp.MustCompile(`(^|[\[ ])--?` + regexp.QuoteMeta(strings.TrimLeft(f, "-")) + `([ \]|=]|$)`)
				if !re.MatchString(s) {
					t.Errorf("%s's synopsis of %v lacks %s", what, c, f)
				}
			}
		}
	}
}

func TestVersion(t *testing.T) {
	out, errOut, code := hlwasm(t, "version")
	if code != 0 || !strings.HasPrefix(out, "hlwasm ") || !strings.Contains(out, "go go1.") ||
		!strings.Contains(out, "guest ABI ") {
		t.Fatalf("version: code %d stdout %q stderr %q", code, out, errOut)
	}
}

// Flag mistakes are usage errors that say what to write.
func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"call", "--timeout", "-1s", td + "arith.wasm", "i32_add", "1", "2"}, []string{"negative", "-1s"}},
		{[]string{"run", "--timeout", "-5m", td + "wasi/cprog.wasm"}, []string{"negative"}},
		{[]string{"call", "--timeout", "5", td + "arith.wasm", "i32_add", "1", "2"}, []string{"write 5s"}},
		{[]string{"run", "--timeout", "soon", td + "wasi/cprog.wasm"}, []string{"30s"}},
		{[]string{"call", "--max-memory", "12X", td + "arith.wasm", "i32_add", "1", "2"}, []string{"MiB", "GiB", "KB"}},
		{[]string{"call", "--max-memory", "100", td + "arith.wasm", "i32_add", "1", "2"}, []string{"64KiB page"}},
		{[]string{"run", "--max-sandbox-memory", "lots", td + "wasi/cprog.wasm"}, []string{"MiB", "GiB"}},
		{[]string{"run", "--engine-heap", "1T", td + "wasi/cprog.wasm"}, []string{"MiB", "GiB"}},
		{[]string{"call", "--max-module-size", "x", td + "arith.wasm", "i32_add", "1", "2"}, []string{"MiB", "GiB"}},
		{[]string{"serve", "--engine-heap", "x"}, []string{"MiB", "GiB"}},
		{[]string{"serve", "--shutdown-timeout", "5"}, []string{"write 5s"}},
		{[]string{"bench", "--duration", "-1s"}, []string{"negative"}},
		{[]string{"bench", "--spin", "1"}, []string{"write 1s"}},
	} {
		_, errOut, code := hlwasm(t, c.args...)
		if code != 2 {
			t.Errorf("%v: code %d, want 2 (stderr %q)", c.args, code, errOut)
		}
		first, _, _ := strings.Cut(errOut, "\n")
		for _, w := range c.want {
			if !strings.Contains(first, w) {
				t.Errorf("%v: %q does not say %q", c.args, first, w)
			}
		}
	}
}

// Size limits set on the command line are reported as the user's, naming the flag.
func TestSizeFlags(t *testing.T) {
	requireKVM(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		// c_basic's memory starts at 3 pages: over a 64 KiB cap, which is the user's.
		{[]string{"call", "--max-memory", "64KiB", td + "c_basic.wasm", "fib", "20"}, []string{"--max-memory", "1 pages", "3 pages"}},
		{[]string{"call", "--max-module-size", "1KiB", td + "c_basic.wasm", "fib", "20"}, []string{"--max-module-size", "1 KiB"}},
		{[]string{"call", "--engine-heap", "8MiB", td + "wasi/reactor-go.wasm", "add", "2", "3"}, []string{"--engine-heap", "8 MiB"}},
		{[]string{"call", "--max-module-size", "1GiB", td + "c_basic.wasm", "fib", "20"}, []string{"MaxModuleBytes", "256 MiB"}},
	} {
		_, errOut, code := hlwasm(t, c.args...)
		if code != 1 {
			t.Errorf("%v: code %d, want 1 (stderr %q)", c.args, code, errOut)
		}
		if strings.Contains(errOut, "engine limit") {
			t.Errorf("%v: %q calls the user's limit the engine's", c.args, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: %q does not say %q", c.args, errOut, w)
			}
		}
	}
	out, errOut, code := hlwasm(t, "call", "--engine-heap", "512MiB", "--max-module-size", "8MiB", td+"wasi/reactor-go.wasm", "add", "2", "3")
	if code != 0 || out != "5\n" {
		t.Errorf("with room: code %d stdout %q stderr %q", code, out, errOut)
	}
}

// --dir is read-only: a write fails with the spec's EROFS and hlwasm names the preopen.
func TestReadOnlyDir(t *testing.T) {
	requireKVM(t)
	dir := t.TempDir()
	out, errOut, _ := hlwasm(t, "run", "--dir", dir+":/data", td+"wasi/cprog.wasm", "-write", "/data/x.txt")
	if !strings.Contains(out, "Read-only file system") {
		t.Errorf("the program saw %q, want EROFS", out)
	}
	if !strings.Contains(errOut, `/data is read-only (--dir)`) || !strings.Contains(errOut, "--dir-rw") {
		t.Errorf("stderr %q does not name the read-only preopen", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.txt")); err == nil {
		t.Error("the file was written")
	}
	out, errOut, code := hlwasm(t, "run", "--dir-rw", dir+":/data", td+"wasi/cprog.wasm", "-write", "/data/x.txt")
	if code != 0 || strings.Contains(errOut, "read-only") {
		t.Errorf("--dir-rw: code %d stdout %q stderr %q", code, out, errOut)
	}
}

// TestRunRust: `hlwasm run` of the Rust std program (rustc 1.63, wasm32-wasi) and of its
// component prints byte for byte what `hlwasm run --engine wazero` of the core program prints;
// exit statuses match (a component's nonzero status is 1: WASI 0.2's exit takes a result).
func TestRunRust(t *testing.T) {
	requireKVM(t)
	wd := td + "wasi/"
	run := func(engine, prog, dir string, args ...string) (string, string, int) {
		a := append([]string{"run", "--engine", engine, "--env", "GREETING=hi", "--dir-rw", dir + ":/w", wd + prog}, args...)
		return hlwasm(t, a...)
	}
	for _, c := range []struct {
		args []string
		code int // its exit status
	}{
		{[]string{"args", "a b", "ü"}, 0},
		{[]string{"read", "/w/hello.txt", "/w/missing"}, 2},
		{[]string{"ls", "/w"}, 0},
		{[]string{"write", "/w"}, 0},
		{[]string{"compute"}, 0},
		{[]string{"exit", "5"}, 5},
		{nil, 64}, // usage on stderr
	} {
		args := c.args
		dirs := [3]string{}
		for i := range dirs {
			dirs[i] = t.TempDir()
			if err := os.WriteFile(filepath.Join(dirs[i], "hello.txt"), []byte("hello rust\nhello\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, wantErr, wantCode := run("wazero", "rprog.wasm", dirs[0], args...)
		if wantCode != c.code || (want+wantErr == "") != (c.code == 5) {
			t.Fatalf("%q on wazero: code %d stdout %q stderr %q", args, wantCode, want, wantErr)
		}
		out, errOut, code := run("microvm", "rprog.wasm", dirs[1], args...)
		if out != want || errOut != wantErr || code != wantCode {
			t.Fatalf("%q core: code %d (want %d)\nstdout %q\nwant   %q\nstderr %q\nwant   %q", args, code, wantCode, out, want, errOut, wantErr)
		}
		if len(args) > 0 && args[0] == "args" { // arg[0] is the file name
			want = strings.Replace(want, `"rprog.wasm" (10 bytes)`, `"rprog.component.wasm" (20 bytes)`, 1)
		}
		out, errOut, code = run("microvm", "rprog.component.wasm", dirs[2], args...)
		if out != want || errOut != wantErr || code != min(wantCode, 1) {
			t.Fatalf("%q component: code %d (want %d)\nstdout %q\nwant   %q\nstderr %q\nwant   %q", args, code, wantCode, out, want, errOut, wantErr)
		}
	}
}

func TestOneCaller(t *testing.T) {
	for scenario, want := range map[string]string{
		"throughput-2": "throughput-1", "floor-throughput-2": "floor-throughput-1",
		"floor-throughput-2-syscall": "floor-throughput-1", "throughput-1": "", "warm-call": "",
	} {
		if got, ok := oneCaller(scenario); got != want || ok != (want != "") {
			t.Errorf("oneCaller(%q) = %q, %v; want %q", scenario, got, ok, want)
		}
	}
}
