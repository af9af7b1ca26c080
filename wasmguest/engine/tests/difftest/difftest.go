//go:build ignore

// difftest.go — reference side of the differential test (see ../README.md): runs every module
// given with wazero's interpreter, calling each exported function (in name order) with zero
// arguments, and prints the same lines as ../runall.c. Usage:
//
//	go run ./wasmguest/engine/tests/difftest/difftest.go FILE.wasm... | sort > wazero.txt
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func main() {
	ctx := context.Background()
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		func() {
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true).WithMemoryLimitPages(256))
			defer rt.Close(ctx)
			cm, err := rt.CompileModule(ctx, b)
			if err != nil {
				fmt.Printf("%s compile-error\n", f)
				return
			}
			if len(cm.ImportedFunctions()) > 0 || len(cm.ImportedMemories()) > 0 {
				fmt.Printf("%s has-imports\n", f)
				return
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			mod, err := rt.InstantiateModule(cctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
			if err != nil {
				fmt.Printf("%s instantiate-error\n", f)
				return
			}
			_ = mod
			// the start function is not run above; skip modules that have one for simplicity
			var names []string
			for name := range cm.ExportedFunctions() {
				names = append(names, name)
			}
			sort.Strings(names)
			cctx2, cancel2 := context.WithTimeout(ctx, 20*time.Second)
			defer cancel2()
			for _, name := range names {
				def := cm.ExportedFunctions()[name]
				fn := mod.ExportedFunction(name)
				params := make([]uint64, len(def.ParamTypes()))
				res, err := fn.Call(cctx2, params...)
				if err != nil {
					fmt.Printf("%s %q trap\n", f, name)
					continue
				}
				fmt.Printf("%s %q ok", f, name)
				for i, r := range res {
					switch def.ResultTypes()[i] {
					case api.ValueTypeF32:
						if math.IsNaN(float64(math.Float32frombits(uint32(r)))) {
							fmt.Printf(" nan")
							continue
						}
						fmt.Printf(" %x", uint32(r))
					case api.ValueTypeF64:
						if math.IsNaN(math.Float64frombits(r)) {
							fmt.Printf(" nan")
							continue
						}
						fmt.Printf(" %x", r)
					case api.ValueTypeI32:
						fmt.Printf(" %x", uint32(r))
					case api.ValueTypeExternref, 0x70:
						if r == 0 {
							fmt.Printf(" null")
						} else {
							fmt.Printf(" ref")
						}
					default:
						fmt.Printf(" %x", r)
					}
				}
				fmt.Printf("\n")
			}
		}()
	}
}
