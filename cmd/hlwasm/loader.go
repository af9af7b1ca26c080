package main

import (
	"context"
	"fmt"

	"github.com/hlwasm/hlwasm/host"
)

// loaded is a runtime with one module loaded; close releases both.
type loaded struct {
	rt  *host.Runtime
	mod *host.Module
}

// load creates a runtime with cfg and loads the module read from path, for one run: without
// snapshots (host.Config.NoSnapshot), which a sandbox used once never reads.
func load(ctx context.Context, cfg host.Config, path string, wasm []byte) (*loaded, error) {
	cfg.NoSnapshot = true
	rt, err := host.NewRuntime(ctx, cfg)
	if err != nil {
		return nil, err
	}
	mod, err := rt.LoadModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	return &loaded{rt: rt, mod: mod}, nil
}

func (l *loaded) close(ctx context.Context) {
	l.mod.Close(ctx)
	l.rt.Close(ctx)
}
