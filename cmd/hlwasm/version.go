package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// cmdVersion prints hlwasm's module version (and VCS revision when the build recorded one),
// the Go version it was built with and the guest ABI version.
func cmdVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version: unexpected argument %q", fs.Arg(0))
	}
	version, rev := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" && rev != "" {
					rev += " (modified)"
				}
			}
		}
	}
	fmt.Fprintf(stdout, "hlwasm %s\n", version)
	if rev != "" {
		fmt.Fprintf(stdout, "revision %s\n", rev)
	}
	fmt.Fprintf(stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "guest ABI %d\n", abi.Version)
	return nil
}
