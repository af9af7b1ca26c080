// Package programs runs real WASI programs (Go, C, TinyGo, Rust, Zig) on hlwasm — in micro-VMs
// and on the wazero engine, both with hlwasm's WASI — and requires output identical to
// wazero's own WASI implementation on the same program.
package programs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	wasip1 "github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
	"github.com/hlwasm/hlwasm/wasi"
)

// detRand is a deterministic random stream (sha256 in counter mode), so that both WASI
// implementations hand the guest the same bytes.
type detRand struct {
	n   uint64
	buf []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			var c [8]byte
			binary.LittleEndian.PutUint64(c[:], r.n)
			r.n++
			s := sha256.Sum256(c[:])
			r.buf = s[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

type mount struct{ host, guest string }

type progCase struct {
	name   string
	wasm   string
	args   []string
	env    []string // KEY=VALUE
	stdin  string
	mounts []mount
	// compiler runs both sides with wazero's compiler (slow to compile Go binaries) instead of
	// the interpreter.
	compiler bool
	// writable mounts a fresh empty host directory at /w, writable (wazero: WithDirMount;
	// hlwasm: wasi.RootFS), and the test compares what is left in it.
	writable bool
	wguest   string // guest path of the writable directory when not /w
}

func (c progCase) writableGuest() string {
	if c.wguest != "" {
		return c.wguest
	}
	return "/w"
}

type result struct {
	stdout, stderr string
	code           uint32
	files          map[string]string // what the guest left in /w
}

// snapshot lists dir: relative path -> content ("<dir>" for directories).
func snapshot(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[rel] = string(b)
		return nil
	}))
	return out
}

func wazeroDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tetratelabs/wazero").Output()
	if err != nil {
		t.Skipf("cannot locate the wazero module: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// runReference runs c with wazero's own wasi_snapshot_preview1.
func runReference(t *testing.T, c progCase, wasm []byte) result {
	ctx := context.Background()
	rc := wazero.NewRuntimeConfigInterpreter()
	if c.compiler {
		rc = wazero.NewRuntimeConfig()
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(ctx)
	wasip1.MustInstantiate(ctx, rt)
	var stdout, stderr bytes.Buffer
	fsc := wazero.NewFSConfig()
	for _, m := range c.mounts {
		fsc = fsc.WithReadOnlyDirMount(m.host, m.guest)
	}
	wdir := t.TempDir()
	if c.writable {
		fsc = fsc.WithDirMount(wdir, c.writableGuest())
	}
	cfg := wazero.NewModuleConfig().WithArgs(c.args...).WithStdout(&stdout).WithStderr(&stderr).
		WithStdin(strings.NewReader(c.stdin)).WithFSConfig(fsc).WithRandSource(&detRand{}).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithName("")
	for _, kv := range c.env {
		k, v, _ := strings.Cut(kv, "=")
		cfg = cfg.WithEnv(k, v)
	}
	_, err := rt.InstantiateWithConfig(ctx, wasm, cfg)
	res := result{stdout: stdout.String(), stderr: stderr.String(), files: snapshot(t, wdir)}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		res.code = exit.ExitCode()
	} else {
		require.NoError(t, err, "reference run")
	}
	return res
}

// wasiConfig is the hlwasm WASI configuration for c, writing to stdout and stderr, and the
// host directory behind the writable preopen.
func wasiConfig(t *testing.T, c progCase, stdout, stderr *bytes.Buffer) (wasi.Config, string) {
	cfg := wasi.Config{Args: c.args, Env: c.env, Stdin: strings.NewReader(c.stdin), Stdout: stdout,
		Stderr: stderr, Rand: &detRand{}}
	for i, m := range c.mounts {
		fsys := os.DirFS(m.host)
		if i%2 == 1 { // exercise both kinds of host directory
			root, err := os.OpenRoot(m.host)
			require.NoError(t, err)
			t.Cleanup(func() { root.Close() })
			fsys = root.FS()
		}
		cfg.Preopens = append(cfg.Preopens, wasi.Preopen{GuestPath: m.guest, FS: fsys})
	}
	wdir := t.TempDir()
	if c.writable {
		root, err := os.OpenRoot(wdir)
		require.NoError(t, err)
		t.Cleanup(func() { root.Close() })
		cfg.Preopens = append(cfg.Preopens, wasi.Preopen{GuestPath: c.writableGuest(), FS: wasi.RootFS(root), Writable: true})
	}
	return cfg, wdir
}

// exited fills res.code from a WASI exit, or requires err to be nil.
func exited(t *testing.T, res result, err error, what string) result {
	var exit *api.ExitError
	if errors.As(err, &exit) {
		res.code = exit.Code
	} else {
		require.NoError(t, err, what)
	}
	return res
}

// runOurs runs c on wazeroengine with hlwasm's wasi package.
func runOurs(t *testing.T, c progCase, wasm []byte) result {
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	cfg, wdir := wasiConfig(t, c, &stdout, &stderr)
	funcs, err := wasi.New(cfg)
	require.NoError(t, err)
	mod, err := wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{Compiler: c.compiler})
	require.NoError(t, err)
	defer mod.Close()
	inst, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	defer inst.Close()
	_, err = inst.Call(ctx, "_start")
	return exited(t, result{stdout: stdout.String(), stderr: stderr.String(), files: snapshot(t, wdir)}, err, "hlwasm run")
}

// runMicroVM runs c through the public API in a micro-VM with hlwasm's WASI.
func runMicroVM(t *testing.T, c progCase, wasm []byte) result {
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	cfg, wdir := wasiConfig(t, c, &stdout, &stderr)
	rt, err := host.NewRuntime(ctx, host.Config{WASI: &cfg})
	if err != nil && os.Getenv("HLWASM_SKIP_KVM") == "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, wasm)
	require.NoError(t, err)
	defer mod.Close(ctx)
	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	_, err = sb.Call(ctx, "_start")
	return exited(t, result{stdout: stdout.String(), stderr: stderr.String(), files: snapshot(t, wdir)}, err, "hlwasm run (micro-VM)")
}

func compare(t *testing.T, cases []progCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			wasm, err := os.ReadFile(c.wasm)
			require.NoError(t, err)
			t0 := time.Now()
			want := runReference(t, c, wasm)
			t1 := time.Now()
			got := runOurs(t, c, wasm)
			t.Logf("reference %v, hlwasm %v", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
			if want.stdout != got.stdout || want.stderr != got.stderr {
				t.Logf("reference stderr:\n%s\nhlwasm stderr:\n%s", want.stderr, got.stderr)
			}
			require.Equal(t, want.stdout, got.stdout, "stdout")
			require.Equal(t, want.code, got.code, "exit code")
			require.Equal(t, want.stderr, got.stderr, "stderr")
			require.Equal(t, want.files, got.files, "files left in /w")
			t.Logf("exit %d, %d bytes of stdout:\n%s", got.code, len(got.stdout), got.stdout[:min(len(got.stdout), 600)])
			t2 := time.Now()
			vm := runMicroVM(t, c, wasm)
			t.Logf("micro-VM %v", time.Since(t2).Round(time.Millisecond))
			require.Equal(t, want.stdout, vm.stdout, "micro-VM stdout")
			require.Equal(t, want.code, vm.code, "micro-VM exit code")
			require.Equal(t, want.stderr, vm.stderr, "micro-VM stderr")
			require.Equal(t, want.files, vm.files, "micro-VM: files left in /w")
		})
	}
}

const ourData = "../testdata/wasi"

func TestWASIOwnPrograms(t *testing.T) {
	files, err := filepath.Abs(filepath.Join(ourData, "files"))
	require.NoError(t, err)
	data := []mount{{files, "/data"}}
	env := []string{"GREETING=hi there", "EMPTY="}
	compare(t, []progCase{
		{name: "go-hello", wasm: ourData + "/hello-go.wasm", args: []string{"hello", "a b", "ç"}, env: env},
		{name: "go-hello-compiler", wasm: ourData + "/hello-go.wasm", args: []string{"hello"}, env: env, compiler: true},
		{name: "go-hello-exit3", wasm: ourData + "/hello-go.wasm", args: []string{"hello", "exit3"}},
		{name: "go-stdlib", wasm: ourData + "/stdlib-go.wasm", args: []string{"stdlib", "/data"}, mounts: data},
		{name: "go-stdlib-nofs", wasm: ourData + "/stdlib-go.wasm", args: []string{"stdlib"}},
		{name: "c-prog", wasm: ourData + "/cprog.wasm", env: env, mounts: data, args: []string{"cprog",
			"/data/hello.txt", "/data/sub/nested.txt", "/data/big.txt", "/data/missing", "/data/../../etc/passwd",
			"-ls", "/data", "-ls", "/data/sub", "-ls", "/data/hello.txt", "-hostile", "/data"}},
		{name: "go-write", wasm: ourData + "/stdlib-go.wasm", args: []string{"stdlib", "-write", "/w"}, writable: true},
		{name: "c-write", wasm: ourData + "/cprog.wasm", args: []string{"cprog", "-write", "/w"}, writable: true},
		{name: "c-exit", wasm: ourData + "/cprog.wasm", args: []string{"cprog", "exit", "7"}},
		{name: "c-prog-compiler", wasm: ourData + "/cprog.wasm", env: env, mounts: data, compiler: true,
			args: []string{"cprog", "/data/hello.txt", "-ls", "/data"}},
	})
}

func TestWASIWazeroTestdata(t *testing.T) {
	wz := wazeroDir(t)
	p := filepath.Join(wz, "imports/wasi_snapshot_preview1/testdata")
	ex := filepath.Join(wz, "imports/wasi_snapshot_preview1/example/testdata")
	cmd := filepath.Join(wz, "cmd/wazero/testdata")
	fsDir := filepath.Join(cmd, "fs")
	root := []mount{{fsDir, "/"}}
	var cases []progCase
	for _, lang := range []string{"tinygo", "cargo-wasi", "zig", "zig-cc"} {
		w := filepath.Join(p, lang, "wasi.wasm")
		cases = append(cases,
			progCase{name: lang + "-ls", wasm: w, args: []string{"wasi", "ls", "."}, mounts: root},
			progCase{name: lang + "-ls-sub", wasm: w, args: []string{"wasi", "ls", "mammals"}, mounts: root},
			progCase{name: lang + "-ls-file", wasm: w, args: []string{"wasi", "ls", "bear.txt"}, mounts: root},
		)
		if lang != "tinygo" { // TinyGo seeks the directory, which wazero (and hlwasm) refuse
			cases = append(cases, progCase{name: lang + "-ls-repeat", wasm: w, args: []string{"wasi", "ls", ".", "repeat"}, mounts: root})
		}
		cases = append(cases,
			progCase{name: lang + "-stat", wasm: w, args: []string{"wasi", "stat"}, mounts: root},
		)
		cases = append(cases, progCase{name: lang + "-cat", wasm: filepath.Join(ex, lang, "cat.wasm"),
			args: []string{"cat", "/test.txt", "/sub/test.txt"}, mounts: []mount{{ex, "/"}}})
	}
	cases = append(cases,
		progCase{name: "zig-preopen", wasm: filepath.Join(p, "zig/wasi.wasm"), args: []string{"wasi", "preopen"},
			mounts: []mount{{fsDir, "/"}, {filepath.Join(fsDir, "fish"), "/tmp"}}},
		progCase{name: "zig-cc-sleepmillis", wasm: filepath.Join(p, "zig-cc/wasi.wasm"), args: []string{"wasi", "sleepmillis", "20"}},
		progCase{name: "zig-cc-poll", wasm: filepath.Join(p, "zig-cc/wasi.wasm"), args: []string{"wasi", "poll", "0", "10"}, stdin: "input"},
		progCase{name: "zig-cc-open-rdonly-writable", wasm: filepath.Join(p, "zig-cc/wasi.wasm"), args: []string{"wasi", "open-rdonly"}, writable: true, wguest: "/"},
		progCase{name: "zig-cc-open-wronly-writable", wasm: filepath.Join(p, "zig-cc/wasi.wasm"), args: []string{"wasi", "open-wronly"}, writable: true, wguest: "/"},
		progCase{name: "print_args", wasm: filepath.Join(p, "print_args.wasm"), args: []string{"a", "bc", ""}},
		progCase{name: "print_prestat_dirname", wasm: filepath.Join(p, "print_prestat_dirname.wasm"), mounts: []mount{{fsDir, "/data"}}},
		progCase{name: "exit_on_start", wasm: filepath.Join(p, "exit_on_start.wasm")},
		progCase{name: "cmd-wasi_arg", wasm: filepath.Join(cmd, "wasi_arg.wasm"), args: []string{"x", "yy", "zzz"}},
		progCase{name: "cmd-wasi_env", wasm: filepath.Join(cmd, "wasi_env.wasm"), env: []string{"A=b", "C=dd"}},
		progCase{name: "cmd-wasi_fd", wasm: filepath.Join(cmd, "wasi_fd.wasm"), mounts: root},
		progCase{name: "cmd-wasi_random_get", wasm: filepath.Join(cmd, "wasi_random_get.wasm")},
		progCase{name: "cmd-cat-tinygo", wasm: filepath.Join(cmd, "cat/cat-tinygo.wasm"), args: []string{"cat", "/bear.txt", "/mammals/primates/ape.txt"}, mounts: root},
	)
	compare(t, cases)
}

// TestWASIReadOnly: creating a file in a preopen fails with EROFS (wazero's read-only mount
// creates it, so there is no reference run).
func TestWASIReadOnly(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join(wazeroDir(t), "imports/wasi_snapshot_preview1/testdata/zig-cc/wasi.wasm"))
	require.NoError(t, err)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	funcs, err := wasi.New(wasi.Config{Args: []string{"wasi", "open-rdonly"}, Stdout: &stdout, Stderr: &stderr,
		Preopens: []wasi.Preopen{{GuestPath: "/", FS: os.DirFS(dir)}}})
	require.NoError(t, err)
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{})
	require.NoError(t, err)
	defer mod.Close()
	inst, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	_, err = inst.Call(ctx, "_start")
	var exit *api.ExitError
	if err != nil {
		require.ErrorAs(t, err, &exit)
		require.Zero(t, exit.Code)
	}
	require.Equal(t, "ERR: open: Read-only file system\n", stderr.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// TestWASIUnstableImportRefused: a module importing wasi_unstable fails to load, naming it.
func TestWASIUnstableImportRefused(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join(wazeroDir(t), "cmd/wazero/testdata/exit_on_start_unstable.wasm"))
	require.NoError(t, err)
	funcs, err := wasi.New(wasi.Config{})
	require.NoError(t, err)
	_, err = wazeroengine.Load(context.Background(), wasm, funcs, wazeroengine.Config{})
	require.ErrorIs(t, err, wazeroengine.ErrImport)
	require.Contains(t, err.Error(), "wasi_unstable.proc_exit")
}

// TestWASISleepInterrupted: a context deadline ends a guest sleeping in poll_oneoff: a sleep
// that ran to its end would return normally, not with the deadline's error (no timed
// assertion: they are flaky on these machines; a 2 s bound once failed at 5.9 s under load).
// 900 ms: the program sleeps less than a second (tv_nsec only).
func TestWASISleepInterrupted(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join(wazeroDir(t), "imports/wasi_snapshot_preview1/testdata/zig-cc/wasi.wasm"))
	require.NoError(t, err)
	funcs, err := wasi.New(wasi.Config{Args: []string{"wasi", "sleepmillis", "900"}, Stdout: io.Discard})
	require.NoError(t, err)
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{})
	require.NoError(t, err)
	defer mod.Close()
	inst, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = inst.Call(cctx, "_start")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
