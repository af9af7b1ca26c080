package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/hlwasm/hlwasm/host"
)

// Duration is a time.Duration written as a Go duration string ("5s", "250ms") in JSON.
type Duration time.Duration

// UnmarshalJSON accepts "5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string like \"5s\": %s", b)
	}
	*d = Duration(n)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Preopen is a host directory a tenant's WASI programs see (every /run of that tenant, or of
// one module: ModuleConfig). Read-only unless Writable.
type Preopen struct {
	Host     string `json:"host"`
	Guest    string `json:"guest"`
	Writable bool   `json:"writable,omitempty"`
}

// Tenant is one client of the server and its limits. Zero limits take the defaults below.
type Tenant struct {
	Name string `json:"name"`
	// Tokens are the bearer tokens (Authorization: Bearer TOKEN) that identify the tenant.
	Tokens []string `json:"tokens"`
	// MaxMemory caps all guest memory of one sandbox, in bytes (host.Config.MaxSandboxMemory).
	MaxMemory uint64 `json:"max_memory,omitempty"`
	// Timeout caps each call; a request may ask for less (Hlwasm-Timeout header or ?timeout=).
	Timeout Duration `json:"timeout,omitempty"`
	// MaxConcurrency bounds the tenant's calls in flight; QueueWait is how long a call may
	// wait for a slot before the server answers 429.
	MaxConcurrency int      `json:"max_concurrency,omitempty"`
	QueueWait      Duration `json:"queue_wait,omitempty"`
	// MaxRequestBytes bounds request bodies (modules, arguments, stdin); MaxResponseBytes bounds
	// a /run's stdout plus stderr (the rest is cut, "truncated": true).
	MaxRequestBytes  int64 `json:"max_request_bytes,omitempty"`
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	// WASI allows modules importing wasi_snapshot_preview1 and /run; Preopens are the
	// directories those programs get.
	WASI     bool      `json:"wasi,omitempty"`
	Preopens []Preopen `json:"preopens,omitempty"`
	// Rate limits the tenant's API requests to Rate per second on average, in bursts of at
	// most Burst (a token bucket; default Burst: Rate rounded up). Past it: 429 with
	// Retry-After. 0: no rate limit.
	Rate  float64 `json:"rate,omitempty"`
	Burst int     `json:"burst,omitempty"`
	// Env holds KEY=VALUE entries every WASI program of the tenant sees; RequestEnv names the
	// variables a /run may set or override (?env=NAME=VALUE); others are refused (403).
	Env        []string `json:"env,omitempty"`
	RequestEnv []string `json:"request_env,omitempty"`
	// MaxArgBytes bounds a /run's arguments plus environment (each with its NUL) → 400.
	MaxArgBytes int `json:"max_arg_bytes,omitempty"`
	// HostFunctions narrows what the tenant's modules may import, out of what the tenant is
	// given (hlwasm.log; WASI with WASI): entries "module.name" or "module.*"
	// (host.Config.AllowImports). A module importing anything else is refused at upload (422
	// import_not_allowed). Empty: all the tenant is given.
	HostFunctions []string `json:"host_functions,omitempty"`
	// Modules gives particular modules their own preopens or host functions, used instead of
	// the tenant's.
	Modules []ModuleConfig `json:"modules,omitempty"`
}

// ModuleConfig is a tenant's setting for one module, named by its hash. A field left out
// (null) takes the tenant's; an empty list means none.
type ModuleConfig struct {
	Hash          string    `json:"hash"`
	Preopens      []Preopen `json:"preopens"`
	HostFunctions []string  `json:"host_functions"`
}

// Defaults for a tenant's unset limits.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxConcurrency   = 4
	DefaultQueueWait        = 100 * time.Millisecond
	DefaultMaxRequestBytes  = 16 << 20
	DefaultMaxResponseBytes = 4 << 20
	DefaultMaxArgBytes      = 64 << 10
)

func (t *Tenant) applyDefaults() {
	if t.Timeout <= 0 {
		t.Timeout = Duration(DefaultTimeout)
	}
	if t.MaxConcurrency <= 0 {
		t.MaxConcurrency = DefaultMaxConcurrency
	}
	if t.QueueWait <= 0 {
		t.QueueWait = Duration(DefaultQueueWait)
	}
	if t.MaxRequestBytes <= 0 {
		t.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if t.MaxResponseBytes <= 0 {
		t.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if t.MaxArgBytes <= 0 {
		t.MaxArgBytes = DefaultMaxArgBytes
	}
	if t.Rate > 0 && t.Burst <= 0 {
		t.Burst = int(math.Ceil(t.Rate))
	}
}

// ErrConfig marks a tenant configuration the server refuses.
var ErrConfig = errors.New("invalid tenant configuration")

// validate checks what applyDefaults cannot fix.
func (t *Tenant) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: tenant %q: %s", ErrConfig, t.Name, fmt.Sprintf(format, a...))
	}
	if t.Name == "" {
		return fmt.Errorf("%w: a tenant has no name", ErrConfig)
	}
	if t.Rate < 0 || math.IsNaN(t.Rate) || math.IsInf(t.Rate, 0) || t.Burst < 0 {
		return bad("rate and burst must be finite and not negative")
	}
	for _, e := range t.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
			return bad("env entry %q is not KEY=VALUE", e)
		}
	}
	for _, n := range t.RequestEnv {
		if n == "" || strings.ContainsAny(n, "=\x00") {
			return bad("request_env name %q", n)
		}
	}
	preopens := func(ps []Preopen) error {
		for _, p := range ps {
			if p.Host == "" {
				return bad("a preopen has no host directory")
			}
		}
		return nil
	}
	if err := preopens(t.Preopens); err != nil {
		return err
	}
	hostFunctions := func(hf []string) error {
		for _, p := range hf {
			if err := host.CheckImportPattern(p); err != nil {
				return bad("host_functions: %v", err)
			}
		}
		return nil
	}
	if err := hostFunctions(t.HostFunctions); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range t.Modules {
		if b, err := hex.DecodeString(m.Hash); err != nil || len(b) != sha256.Size || strings.ToLower(m.Hash) != m.Hash {
			return bad("module %q: want a sha256 in lower-case hex", m.Hash)
		}
		if seen[m.Hash] {
			return bad("module %s configured twice", m.Hash)
		}
		seen[m.Hash] = true
		if err := preopens(m.Preopens); err != nil {
			return err
		}
		if m.HostFunctions != nil && len(m.HostFunctions) == 0 {
			return bad("module %s: host_functions is empty (it would allow all; leave it out for the tenant's)", m.Hash)
		}
		if err := hostFunctions(m.HostFunctions); err != nil {
			return err
		}
	}
	return nil
}

// TenantsFile is the --tenants file: {"tenants": [...]}.
type TenantsFile struct {
	Tenants []Tenant `json:"tenants"`
}

// LoadTenants reads a tenants file (JSON; unknown fields are refused).
func LoadTenants(path string) ([]Tenant, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f TenantsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Tenants, nil
}
