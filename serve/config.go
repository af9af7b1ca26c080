package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
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

// Preopen is a host directory a tenant's WASI programs see (every /run of that tenant).
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
}

// Defaults for a tenant's unset limits.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxConcurrency   = 4
	DefaultQueueWait        = 100 * time.Millisecond
	DefaultMaxRequestBytes  = 16 << 20
	DefaultMaxResponseBytes = 4 << 20
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
