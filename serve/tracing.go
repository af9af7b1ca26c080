package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Tracing selects where spans go (hlwasm serve --trace).
type Tracing struct {
	// Exporter is "" or "none" (no tracing: Config.TracerProvider stays nil), "stdout" (one JSON
	// span per line on Stdout) or "otlp" (OTLP over HTTP/protobuf to Endpoint).
	Exporter string
	// Endpoint is the OTLP collector's URL: a base URL ("http://collector:4318", to which
	// /v1/traces is added) or one with the full path. Empty: the OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
	// environment variables, else http://localhost:4318. The exporter also reads the other
	// OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression, certificates).
	Endpoint string
	// Stdout receives the stdout exporter's spans; default os.Stdout.
	Stdout io.Writer
	// ServiceName is the resource's service.name; default "hlwasm".
	ServiceName string
}

// ErrTracing marks a tracing configuration that cannot be used.
var ErrTracing = errors.New("tracing")

// NewTracerProvider builds the tracer provider t asks for, batching spans to its exporter, or
// nil for no tracing. Shut it down (flushing spans) after the Server. The sampler is the SDK's:
// parent-based always-on unless OTEL_TRACES_SAMPLER says otherwise.
func NewTracerProvider(ctx context.Context, t Tracing) (*sdktrace.TracerProvider, error) {
	var exp sdktrace.SpanExporter
	var err error
	switch t.Exporter {
	case "", "none":
		return nil, nil
	case "stdout":
		w := t.Stdout
		if w == nil {
			w = os.Stdout
		}
		exp, err = stdouttrace.New(stdouttrace.WithWriter(w))
	case "otlp":
		var opts []otlptracehttp.Option
		if t.Endpoint != "" {
			u, perr := url.Parse(t.Endpoint)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("%w: OTLP endpoint %q: want http(s)://host:port", ErrTracing, t.Endpoint)
			}
			if u.Path == "" || u.Path == "/" { // a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is
				u.Path = "/v1/traces"
			}
			opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	default:
		return nil, fmt.Errorf("%w: unknown exporter %q (want none, stdout or otlp)", ErrTracing, t.Exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s exporter: %w", ErrTracing, t.Exporter, err)
	}
	name := t.ServiceName
	if name == "" {
		name = "hlwasm"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		res = resource.Default()
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
