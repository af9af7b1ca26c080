package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// cmdInspect lists a module's imports and exports with their types. The module is read by the
// host's untrusted-input reader; nothing runs.
func cmdInspect(ctx context.Context, args []string, stdout io.Writer) error {
	_ = ctx
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("inspect: need MODULE.wasm")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return usagef("inspect: %v", err)
	}
	if components.Detect(b) == components.KindComponent {
		privateTempDir()
		c, err := components.Decode(b, "")
		if errors.Is(err, components.ErrUnsupported) {
			// several core modules linked together (a WASI adapter's shape): hlwasm run runs them
			if l, lerr := components.DecodeLink(b); lerr == nil {
				fmt.Fprintf(stdout, "component: %d core modules linked in one sandbox, %d canonical built-ins; the world:\n%s",
					len(l.Parts), len(l.Canon), l.World)
				if run, ok := l.RunExport(); ok {
					fmt.Fprintf(stdout, "a wasi:cli/command (hlwasm run runs it): %s of core module %d\n", run.Name, run.Part)
				} else {
					fmt.Fprintf(stdout, "a library (hlwasm call calls its exports)\n")
				}
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("inspect %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "component: %d core module(s); the world:\n%s", len(c.Modules), c.World)
		fmt.Fprintln(stdout, "core module:")
		b = c.Core
	}
	m, err := wasmbin.Parse(b)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "imports (%d):\n", len(m.Imports))
	for _, im := range m.Imports {
		fmt.Fprintf(stdout, "  %s.%s: %s\n", im.Module, im.Name, importType(im))
	}
	fmt.Fprintf(stdout, "exports (%d):\n", len(m.Exports))
	for _, e := range m.Exports {
		fmt.Fprintf(stdout, "  %s: %s\n", e.Name, exportType(m, e))
	}
	return nil
}

func limits(l wasmbin.Limits) string {
	if l.HasMax {
		return fmt.Sprintf("%d..%d", l.Min, l.Max)
	}
	return fmt.Sprintf("%d..", l.Min)
}

func importType(im wasmbin.Import) string {
	switch im.Kind {
	case wasmbin.KindFunc:
		return "func " + im.FuncType.String()
	case wasmbin.KindTable:
		return fmt.Sprintf("table %s %s", im.TableType.Elem, limits(im.TableType.Limits))
	case wasmbin.KindMemory:
		return "memory " + limits(im.MemType.Limits)
	case wasmbin.KindGlobal:
		return "global " + globalType(im.GlobalType)
	}
	return "?"
}

func globalType(g wasmbin.GlobalType) string {
	if g.Mutable {
		return "mut " + g.Type.String()
	}
	return g.Type.String()
}

func exportType(m *wasmbin.Module, e wasmbin.Export) string {
	switch e.Kind {
	case wasmbin.KindFunc:
		if ft, ok := m.FuncTypeOf(e.Index); ok {
			return "func " + ft.String()
		}
	case wasmbin.KindGlobal:
		if gt, ok := m.GlobalTypeOf(e.Index); ok {
			return "global " + globalType(gt)
		}
	case wasmbin.KindTable:
		return fmt.Sprintf("table %d", e.Index)
	case wasmbin.KindMemory:
		return fmt.Sprintf("memory %d", e.Index)
	}
	return "?"
}
