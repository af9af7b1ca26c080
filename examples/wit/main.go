// Command wit shows WIT-declared imports and exports: hello.wasm's imports and exports are
// declared in hello.wit; the host binds the import log to a Go function (the world is the
// allow-list: nothing else can be imported) and calls the export run with a Go string.
//
//	go run ./examples/wit [name]
//
// It runs the guest on the wazero engine; a sandbox that implements wit.Instance (Memory
// and Call) is used the same way.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
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

	mod, err := wazeroengine.Load(ctx, helloWasm, funcs, wazeroengine.Config{})
	if err != nil {
		return err
	}
	defer mod.Close()
	in, err := mod.Instantiate(ctx)
	if err != nil {
		return err
	}

	// Call the export with Go values; the string argument is copied into memory the guest
	// allocates with its cabi_realloc, and the result is lifted back into a Go string.
	greeting, err := wit.Invoke[string](ctx, w, instance{in}, "run", name)
	if err != nil {
		return err
	}
	fmt.Println("run returned:", greeting)
	return nil
}

// instance adapts a wazeroengine instance to wit.Instance.
type instance struct{ in *wazeroengine.Instance }

func (i instance) Memory() api.Memory { return i.in.Memory() }

func (i instance) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	return i.in.Call(ctx, name, params)
}
