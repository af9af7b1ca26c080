package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
	"github.com/hlwasm/hlwasm/internal/machine"
)

// Benchmarks of the call paths next to the raw KVM floors, in one run:
//
//	go test ./host -run '^$' -bench . -benchtime 2000x
//
// `hlwasm bench` reports the same scenarios with medians and p99.

func benchRuntime(b *testing.B, cfg host.Config) *host.Module {
	cfg.HostFunctions = []api.HostFunction{bench.HostAdd}
	rt := newRuntime(b, cfg)
	mod, err := rt.LoadModule(context.Background(), bench.Module)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mod.Close(context.Background()) })
	return mod
}

func BenchmarkFloorExit(b *testing.B) {
	k, err := machine.OpenKVM()
	if err != nil {
		b.Skip(err)
	}
	defer k.Close()
	s, _, err := bench.FloorExit(k, b.N)
	if err != nil {
		b.Fatal(err)
	}
	_ = s
}

func BenchmarkWarmCall(b *testing.B) {
	ctx := context.Background()
	sb, err := benchRuntime(b, host.Config{}).NewSandbox(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sb.Call(ctx, "add", 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHotCall(b *testing.B) {
	ctx := context.Background()
	sb, err := benchRuntime(b, host.Config{Spin: time.Millisecond}).NewSandbox(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close(ctx)
	sb.Call(ctx, "add", 1, 2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sb.Call(ctx, "add", 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHostCall(b *testing.B) {
	ctx := context.Background()
	sb, err := benchRuntime(b, host.Config{}).NewSandbox(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close(ctx)
	b.ResetTimer()
	if _, err := sb.Call(ctx, "host_loop", uint64(b.N)); err != nil { // b.N guest-to-host calls
		b.Fatal(err)
	}
}

func BenchmarkFreshCall(b *testing.B) {
	ctx := context.Background()
	mod := benchRuntime(b, host.Config{PoolSize: 2})
	mod.Call(ctx, "dirty", 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := mod.Call(ctx, "dirty", 4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkColdSandbox(b *testing.B) {
	ctx := context.Background()
	mod := benchRuntime(b, host.Config{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sb, err := mod.NewSandbox(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sb.Call(ctx, "add", 1, 2); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		sb.Close(ctx)
		b.StartTimer()
	}
}
