// Command embed is the smallest program embedding hlwasm: it runs examples/guests/add.wasm in
// a sandbox and prints add(2, 3).
//
//	go run ./examples/embed        # needs /dev/kvm
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/hlwasm/hlwasm/host"
)

// A copy of examples/guests/add.wasm (go:embed cannot reach ../guests; `make examples-wasm`
// refreshes it).
//
//go:embed add.wasm
var addWasm []byte

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// One Runtime per process: it holds /dev/kvm.
	rt, err := host.NewRuntime(ctx, host.Config{})
	if errors.Is(err, host.ErrNoKVM) {
		fmt.Fprintln(os.Stderr, "hlwasm needs /dev/kvm (is KVM enabled and accessible?)")
		return err
	}
	if err != nil {
		return err
	}
	defer rt.Close(ctx)

	// A Module is decoded and validated once; any number of sandboxes can be created from it.
	mod, err := rt.LoadModule(ctx, addWasm)
	if err != nil {
		return fmt.Errorf("loading add.wasm: %w", err)
	}
	defer mod.Close(ctx)

	// A Sandbox is one micro-VM with the module instantiated.
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)

	// i32 arguments and results travel as uint64.
	res, err := sb.Call(ctx, "add", 2, 3)
	switch {
	case errors.Is(err, host.ErrTrap):
		// The guest trapped (unreachable, out-of-bounds access, ...); the sandbox stays usable.
		// errors.As gives the kind.
		var trap *host.TrapError
		if errors.As(err, &trap) {
			return fmt.Errorf("add trapped (%v): %w", trap.Kind, err)
		}
		return err
	case errors.Is(err, host.ErrDeadline), errors.Is(err, host.ErrCanceled):
		return fmt.Errorf("add did not finish in time: %w", err)
	case err != nil:
		return err
	}
	fmt.Println(uint32(res[0])) // 5
	return nil
}
