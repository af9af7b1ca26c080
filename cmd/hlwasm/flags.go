package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hlwasm/hlwasm/host"
)

// helpRequested is `hlwasm CMD --help`: the command's usage on stdout, exit status 0.
type helpRequested struct{ fs *flag.FlagSet }

func (h *helpRequested) Error() string { return "help requested" }

// parseFlags parses a command's flags: --help asks for its usage, any other mistake is a
// usage error naming the command.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return &helpRequested{fs}
	}
	return usagef("%s: %v", fs.Name(), err)
}

// printHelp writes a command's synopsis (from usage) and its flags.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage:\n%s", commandSynopsis(fs.Name()))
	fmt.Fprint(w, "\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n    \t%s", f.Name, name, help)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// commandSynopsis is command name's lines of the usage text ("" for no such command).
func commandSynopsis(name string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(strings.TrimSuffix(usage, "\n"), "\n") {
		switch {
		case line == "  hlwasm "+name || strings.HasPrefix(line, "  hlwasm "+name+" "):
			in = true
		case strings.HasPrefix(line, "  hlwasm "), line == "":
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// sizeUnits is what every size flag accepts.
const sizeUnits = "a number of bytes with an optional unit: B, KiB, MiB, GiB (or K, M, G), KB, MB, GB, e.g. 256MiB"

// parseSize reads a byte size such as 64MiB, 1GB or 4096.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	num := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000},
		{"GB", 1000_000_000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSuffix(num, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q: want %s", s, sizeUnits)
	}
	if n > (1<<50)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// parsePages parses a byte size and returns it in 64 KiB pages, rounded down.
func parsePages(s string) (uint32, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	if n > 4<<30 {
		return 0, fmt.Errorf("size %q exceeds 4GiB", s)
	}
	pages := n / 65536
	if pages == 0 {
		return 0, fmt.Errorf("size %q is less than one 64KiB page", s)
	}
	return uint32(pages), nil
}

// sizeFlag is a byte-size flag ("" until set).
type sizeFlag struct {
	n   uint64
	set bool
}

func (f *sizeFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatUint(f.n, 10)
}

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	f.n, f.set = n, true
	return nil
}

// pagesFlag is a byte-size flag counted in 64 KiB pages (--max-memory).
type pagesFlag struct{ pages uint32 }

func (f *pagesFlag) String() string {
	if f == nil || f.pages == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(f.pages)*65536, 10)
}

func (f *pagesFlag) Set(s string) error {
	p, err := parsePages(s)
	if err != nil {
		return err
	}
	f.pages = p
	return nil
}

// parseDuration reads a non-negative duration with a unit, saying what to write otherwise.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("%q has no unit: write %ss (units: ns, us, ms, s, m, h)", s, s)
		}
		return 0, fmt.Errorf("bad duration %q: want a number with a unit, e.g. 30s, 1m30s, 500ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q: want 0 or more", s)
	}
	return d, nil
}

// durationFlag is a non-negative duration flag stored in *p (for a timeout, 0: no limit).
type durationFlag struct{ p *time.Duration }

func (f durationFlag) String() string {
	if f.p == nil {
		return ""
	}
	return f.p.String()
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*f.p = d
	return nil
}

// durationVar defines a durationFlag with default value.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage)
}

// limitFlags are the size and time limits `run` and `call` share.
type limitFlags struct {
	timeout    time.Duration
	maxMemory  pagesFlag
	maxSandbox sizeFlag
	maxModule  sizeFlag
	engineHeap sizeFlag
}

func (l *limitFlags) register(fs *flag.FlagSet, timeout time.Duration, what string) {
	durationVar(fs, &l.timeout, "timeout", timeout, "stop the "+what+" after `D`, a duration such as 30s or 5m (0: no limit)")
	fs.Var(&l.maxMemory, "max-memory", "cap on the module's linear memory, a `SIZE` such as 256MiB (default 1GiB)")
	fs.Var(&l.maxSandbox, "max-sandbox-memory", "cap on all guest memory of the sandbox (linear memory, tables, engine data), a `SIZE` such as 512MiB")
	fs.Var(&l.maxModule, "max-module-size", "largest module accepted, a `SIZE` such as 64MiB (default and most 256MiB)")
	fs.Var(&l.engineHeap, "engine-heap", "the engine's heap for the module's code and data, a `SIZE` such as 2GiB (default: sized from the module)")
}

// apply sets cfg's limits from the flags.
func (l *limitFlags) apply(cfg *host.Config) {
	cfg.MaxMemoryPages = l.maxMemory.pages
	cfg.MaxSandboxMemory = l.maxSandbox.n
	cfg.MaxModuleBytes = l.maxModule.n
	cfg.EngineHeapBytes = l.engineHeap.n
	if l.timeout == 0 { // said explicitly: no limit at all, not the library's default
		cfg.CallTimeout, cfg.LoadTimeout = host.NoTimeout, host.NoTimeout
	}
}
