package wasi

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/hlwasm/hlwasm/api"
)

// ModuleName is the import module of WASI preview1.
const ModuleName = "wasi_snapshot_preview1"

// Instance is the WASI state of one guest: its configuration and file-descriptor table. Its
// methods and host functions are safe for concurrent use.
type Instance struct {
	mu    sync.Mutex
	cfg   Config
	clock Clock
	rand  io.Reader
	// streams are cfg's stdio from the registry of shared streams (see stream).
	streams callStdio
	fds     []*fdEntry
	funcs   []api.HostFunction
	// Buffering (buffering.go): on once EnableBuffering is called.
	buffered   bool
	batch      outBatch
	raGen      uint64 // bumped to drop every read-ahead buffer
	readAheads int    // descriptors holding a read-ahead buffer
	gio        guestIO
}

// New returns all 46 WASI preview1 host functions bound to a fresh Instance.
func New(cfg Config) ([]api.HostFunction, error) {
	in, err := NewInstance(cfg)
	if err != nil {
		return nil, err
	}
	return in.Functions(), nil
}

// NewInstance validates cfg and returns an Instance in its initial state.
func NewInstance(cfg Config) (*Instance, error) {
	in := &Instance{}
	if err := in.Reset(cfg); err != nil {
		return nil, err
	}
	in.funcs = in.hostFunctions()
	return in, nil
}

// Functions returns the 46 host functions bound to this instance (a fresh slice each call).
func (in *Instance) Functions() []api.HostFunction {
	return append([]api.HostFunction(nil), in.funcs...)
}

// Reset closes every descriptor the guest opened and returns the instance to the initial state
// of cfg (pass the same Config to reset, or a new one for new stdio, arguments or random seed).
// On error the instance is unchanged.
func (in *Instance) Reset(cfg Config) error {
	if err := validate(&cfg); err != nil {
		return err
	}
	_ = in.Flush(context.Background()) // output of the last call belongs to it, not to the next
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range in.fds {
		if e != nil {
			e.close()
		}
	}
	in.readAheads = 0
	in.dropGuestWindows()
	in.cfg = cfg
	in.clock = cfg.Clock
	if in.clock == nil {
		in.clock = SystemClock()
	}
	in.rand = cfg.Rand
	if in.rand == nil {
		in.rand = rand.Reader
	}
	in.streams = callStdio{in: streamOf(cfg.Stdin, false), out: streamOf(cfg.Stdout, true), err: streamOf(cfg.Stderr, true)}
	in.fds = []*fdEntry{{kind: kindStdin}, {kind: kindStdout}, {kind: kindStderr}}
	for i, p := range cfg.Preopens {
		in.fds = append(in.fds, &fdEntry{kind: kindDir, preopen: i, guest: p.GuestPath, path: "."})
	}
	return nil
}

// Close closes every open descriptor; the instance must be Reset before further use.
func (in *Instance) Close() error {
	err := in.Flush(context.Background())
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range in.fds {
		if e != nil {
			e.close()
		}
	}
	in.fds = nil
	return err
}

func validate(cfg *Config) error {
	for i, a := range cfg.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("%w: argument %d contains NUL", ErrConfig, i)
		}
	}
	for i, e := range cfg.Env {
		if strings.IndexByte(e, 0) >= 0 || strings.IndexByte(e, '=') <= 0 {
			return fmt.Errorf("%w: environment entry %d is not KEY=VALUE", ErrConfig, i)
		}
	}
	cfg.Args = append([]string(nil), cfg.Args...)
	cfg.Env = append([]string(nil), cfg.Env...)
	cfg.Preopens = append([]Preopen(nil), cfg.Preopens...)
	for i, p := range cfg.Preopens {
		switch {
		case p.FS == nil:
			return fmt.Errorf("%w: preopen %d (%q) has no FS", ErrConfig, i, p.GuestPath)
		case p.GuestPath == "" || strings.IndexByte(p.GuestPath, 0) >= 0:
			return fmt.Errorf("%w: preopen %d has an invalid guest path %q", ErrConfig, i, p.GuestPath)
		}
		if _, ok := p.FS.(WritableFS); p.Writable && !ok {
			return fmt.Errorf("%w: preopen %q: %T does not implement WritableFS", ErrWritableUnsupported, p.GuestPath, p.FS)
		}
	}
	return nil
}
