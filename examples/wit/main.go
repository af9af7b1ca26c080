// Command wit shows WIT-declared imports and exports: hello.wasm's imports and exports are
// declared in hello.wit; the host binds the import log to a Go function (the world is the
// allow-list: nothing else can be imported) and calls the export run with a Go string.
//
//	go run ./examples/wit [name]
//
// The guest runs in a micro-VM sandbox, which implements wit.Instance (Memory and Call).
package main

import (
	"context"
	_ "embed"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wit"
)

//go:embed hello.wit
var helloWIT string

//go:embed hello.wasm
var helloWasm []byte

func main() {
	name := "WIT"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	if err := run(context.Background(), name); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, name string) error {
	// Load the world: wasm-tools (run under wazero) parses and resolves the WIT; a syntax
	// error comes back with its line and column.
	w, err := wit.Load(strings.NewReader(helloWIT), "hello")
	if err != nil {
		return err
	}
	fmt.Print(w) // the imports and exports with their core signatures

	// Bind every import to a Go function. Strings, lists, records... are lifted from guest
	// memory with every pointer and length checked.
	funcs, err := w.Bind(map[string]any{
		"log": func(msg string) { fmt.Println("guest log:", msg) },
	})
	if err != nil {
		return err
	}

	// The world's imports are the sandbox's allow-list.
	rt, err := host.NewRuntime(ctx, host.Config{HostFunctions: funcs})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, helloWasm)
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)

	// Call the export with Go values; the string argument is copied into memory the guest
	// allocates with its cabi_realloc, and the result is lifted back into a Go string.
	greeting, err := wit.Invoke[string](ctx, w, sb, "run", name)
	if err != nil {
		return err
	}
	fmt.Println("run returned:", greeting)
	return nil
}
