package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/serve"
)

// cmdServe runs the HTTP service until SIGTERM or SIGINT, then drains in-flight calls.
func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", ":8080", "address to listen on")
	dataDir := fs.String("data-dir", "", "directory for uploaded modules and their snapshots (empty: in memory only)")
	modulesDir := fs.String("modules-dir", "", "read-only directory of *.wasm served to every tenant")
	tenants := fs.String("tenants", "", "tenants file (JSON: tokens and limits); none: no authentication")
	cert := fs.String("tls-cert", "", "TLS certificate (with --tls-key): HTTPS instead of HTTP/1.1 + h2c")
	key := fs.String("tls-key", "", "TLS private key")
	engine := fs.String("engine", "microvm", "microvm, or wazero (in-process: no hardware isolation, no snapshots)")
	snapKey := fs.String("snapshot-key-file", "", "file whose bytes authenticate snapshot files (HMAC)")
	var maxModule, engineHeap sizeFlag
	fs.Var(&maxModule, "max-module-size", "largest module accepted, e.g. 64MiB (default and most 256MiB; uploads are also bounded by the tenant's max_request_bytes)")
	fs.Var(&engineHeap, "engine-heap", "the engine's heap for a module's code and data, e.g. 2GiB (default: sized from the module)")
	drain := new(time.Duration)
	durationVar(fs, drain, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for in-flight calls, a duration `D` such as 30s")
	bodyTimeout := new(time.Duration)
	durationVar(fs, bodyTimeout, "body-timeout", 60*time.Second, "how long a request's body may take to arrive (then 408), a duration `D` such as 30s")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	traceExp := fs.String("trace", "none", "span exporter: none, stdout (JSON lines on stdout) or otlp (OTLP/HTTP)")
	otlpEndpoint := fs.String("otlp-endpoint", "", "OTLP/HTTP collector URL, e.g. http://collector:4318 (default: $OTEL_EXPORTER_OTLP_ENDPOINT)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	if (*cert == "") != (*key == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("serve: --log-level: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv}))
	if *bodyTimeout <= 0 {
		return usagef("serve: --body-timeout must be positive, e.g. 30s")
	}
	cfg := serve.Config{DataDir: *dataDir, ModulesDir: *modulesDir, Logger: log, BodyTimeout: *bodyTimeout}
	var err error
	if cfg.Engine, err = host.ParseEngine(*engine); err != nil {
		return usagef("serve: --engine: %v", err)
	}
	if *tenants != "" {
		if cfg.Tenants, err = serve.LoadTenants(*tenants); err != nil {
			return usagef("serve: --tenants: %v", err)
		}
	}
	if *snapKey != "" {
		if cfg.SnapshotKey, err = os.ReadFile(*snapKey); err != nil {
			return usagef("serve: --snapshot-key-file: %v", err)
		}
	}
	cfg.MaxModuleBytes, cfg.EngineHeapBytes = maxModule.n, engineHeap.n
	tp, err := serve.NewTracerProvider(ctx, serve.Tracing{Exporter: *traceExp, Endpoint: *otlpEndpoint})
	if err != nil {
		return usagef("serve: --trace: %v", err)
	}
	if tp != nil {
		cfg.TracerProvider = tp
		defer func() {
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(fctx); err != nil { // flushes the spans still batched
				log.Warn("trace exporter", "err", err)
			}
		}()
	}
	s, err := serve.New(ctx, cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		s.Shutdown(ctx)
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)
	log.Info("serving", "addr", l.Addr().String(), "tls", *cert != "", "data_dir", *dataDir, "tenants", len(cfg.Tenants), "trace", *traceExp)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l, *cert, *key) }()
wait:
	for {
		select {
		case err := <-served:
			s.Shutdown(ctx)
			return err
		case got := <-sig:
			if got != syscall.SIGHUP {
				log.Info("draining", "signal", got.String(), "timeout", drain.String())
				break wait
			}
			// SIGHUP: the tenants file again (tokens, limits); a bad file keeps the old one.
			if *tenants == "" {
				log.Warn("SIGHUP ignored: no --tenants file")
				continue
			}
			ts, err := serve.LoadTenants(*tenants)
			if err == nil {
				err = s.Reload(ts)
			}
			if err != nil {
				log.Error("reload failed; the previous tenants stay in force", "err", err)
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	err = s.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
	}
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
