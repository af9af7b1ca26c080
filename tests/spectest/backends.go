package spectest

import (
	"fmt"
	"os"
	"sort"
)

// backends maps HLWASM_SPEC_BACKEND values to constructors; suite is a Suites name.
// microvm_backend.go adds "microvm".
var backends = map[string]func(suite string) Backend{
	"wazero": func(suite string) Backend {
		s, _ := SuiteNamed(suite)
		return WazeroBackend{Features: s.Features}
	},
}

// defaultBackend is used when HLWASM_SPEC_BACKEND is unset; microvm_backend.go makes it
// "microvm" where KVM is available.
var defaultBackend = "wazero"

// defaultAlso, when set, is a second backend run by default (the micro-VM interpreter tier
// besides the compiled one).
var defaultAlso = ""

// BackendsFor returns the backend named by HLWASM_SPEC_BACKEND for a suite, or the default
// ones.
func BackendsFor(suite string) ([]Backend, error) {
	if os.Getenv("HLWASM_SPEC_BACKEND") != "" || defaultAlso == "" {
		b, err := BackendFor(suite)
		return []Backend{b}, err
	}
	return []Backend{backends[defaultBackend](suite), backends[defaultAlso](suite)}, nil
}

// BackendFor returns the backend named by HLWASM_SPEC_BACKEND for a suite, or the default.
func BackendFor(suite string) (Backend, error) {
	name := os.Getenv("HLWASM_SPEC_BACKEND")
	if name == "" {
		name = defaultBackend
	}
	if _, ok := SuiteNamed(suite); !ok {
		return nil, fmt.Errorf("unknown spec suite %q", suite)
	}
	mk, ok := backends[name]
	if !ok {
		var names []string
		for n := range backends {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown HLWASM_SPEC_BACKEND %q (have %v)", name, names)
	}
	return mk(suite), nil
}
