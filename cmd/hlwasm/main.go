// Command hlwasm runs WebAssembly inside KVM micro-VMs. `hlwasm --help` lists the commands,
// `hlwasm CMD --help` one command's flags (README.md, CLI, has the same synopsis).
//
// Exit status: 0 on success, 1 on a trap or guest error, 2 on a usage error; `run` exits with
// the guest's own exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `usage:
  hlwasm run [--dir HOST[:GUEST]] [--dir-rw HOST[:GUEST]] [--env K=V] [--timeout D] [--max-memory SIZE]
             [--max-sandbox-memory SIZE] [--max-module-size SIZE] [--engine-heap SIZE]
             [--engine microvm|wazero] [--tier compiled|interp] PROG.wasm [ARGS...]
  hlwasm call [--timeout D] [--max-memory SIZE] [--max-sandbox-memory SIZE] [--max-module-size SIZE]
              [--engine-heap SIZE] [--engine microvm|wazero] [--tier compiled|interp]
              [--wit WORLD.wit [--world NAME]] MODULE.wasm FUNC [ARGS...]
  hlwasm inspect MODULE.wasm
  hlwasm serve [--listen ADDR] [--data-dir DIR] [--modules-dir DIR] [--tenants FILE]
               [--tls-cert FILE --tls-key FILE] [--engine microvm|wazero] [--snapshot-key-file FILE]
               [--max-module-size SIZE] [--engine-heap SIZE] [--shutdown-timeout D] [--body-timeout D]
               [--log-level LEVEL] [--trace none|stdout|otlp] [--otlp-endpoint URL]
  hlwasm wit bindgen [--world NAME] [--package P] [-o FILE] WORLD.wit
  hlwasm bench [--json] [--chart FILE] [--resets] [--wasmtime BIN] [--only GROUPS] [--quick]
               [--runs N] [--cold-runs N] [--cat-bytes N] [--cat-runs N] [--kernel-runs N]
               [--tier compiled|interp|both] [--spin D] [--dirty N] [--duration D] [--load-module FILE]
  hlwasm version

--dir preopens are read-only (wazero's --mount is read-write): use --dir-rw to let the program
write. D is a duration with a unit (30s, 5m; 0: no limit). SIZE is bytes with an optional unit
(B, KiB, MiB, GiB or K, M, G; KB, MB, GB), e.g. 256MiB. hlwasm CMD --help lists CMD's flags.
`

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "call":
		err = cmdCall(ctx, args[1:], stdin, stdout, stderr)
	case "run":
		err = cmdRun(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout)
	case "inspect":
		err = cmdInspect(ctx, args[1:], stdout)
	case "wit":
		err = cmdWIT(ctx, args[1:], stdout)
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "version":
		err = cmdVersion(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usagef("unknown command %q", args[0])
	}
	if err == nil {
		return 0
	}
	var ue *usageError
	var status exitStatus
	var help *helpRequested
	if errors.As(err, &help) {
		printHelp(stdout, help.fs)
		return 0
	}
	if errors.As(err, &status) {
		return int(status)
	}
	if errors.As(err, &ue) {
		// A command's mistake shows that command's synopsis, not every command's.
		if syn := commandSynopsis(args[0]); syn != "" {
			fmt.Fprintf(stderr, "hlwasm: %v\nusage:\n%s(hlwasm %s --help lists its flags)\n", err, syn, args[0])
		} else {
			fmt.Fprintf(stderr, "hlwasm: %v\n%s", err, usage)
		}
		return 2
	}
	fmt.Fprintf(stderr, "hlwasm: %v\n", err)
	return 1
}
