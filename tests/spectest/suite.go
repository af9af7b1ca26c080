package spectest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Suite is one directory of wazero's spec tests: a core version or a proposal.
type Suite struct {
	Name string // directory under internal/integration_test/spectest
	// Features: what the wazero backend enables (wazero's own spec_test.go for the directory).
	Features api.CoreFeatures
	// Implemented: the engine implements the proposal, so a failed command fails TestSpec. The
	// commands of a proposal not (fully) implemented still run and their counts are printed, but
	// failures are only logged. A module the engine refuses as an unsupported feature (a
	// proposal it does not implement, e.g. GC types in the exception-handling suite) is a skip.
	Implemented bool
	// Local: the suite is not wazero's but this package's testdata/<Name> (wast2json output of
	// the WebAssembly testsuite's files, listed in mk/testdata.mk).
	Local bool
}

// Suites lists every suite TestSpec runs, in order.
var Suites = []Suite{
	{"v1", api.CoreFeaturesV1, true, false},
	{"v2", api.CoreFeaturesV2, true, false},
	{"extended-const", api.CoreFeaturesV2 | experimental.CoreFeaturesExtendedConst, true, false},
	{"tail-call", api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall, true, false},
	{"exception-handling", api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling |
		experimental.CoreFeaturesTailCall | experimental.CoreFeaturesTypedFunctionReferences, true, false},
	{"typed-function-references", api.CoreFeaturesV2 | experimental.CoreFeaturesTypedFunctionReferences |
		experimental.CoreFeaturesTailCall, true, false},
	// From the WebAssembly testsuite (wazero 1.12 implements neither: its backend fails them).
	{"relaxed-simd", api.CoreFeaturesV2, true, true},
	{"multi-memory", api.CoreFeaturesV2, true, true},
	{"memory64", api.CoreFeaturesV2, true, true},
	// GC (WebAssembly 3.0): implemented (one command is skipped: a hostref argument, a host
	// value inside anyref, which the runners cannot make; testdata/README.md).
	{"gc", api.CoreFeaturesV2, true, true},
}

// SuiteNamed returns the suite called name.
func SuiteNamed(name string) (Suite, bool) {
	for _, s := range Suites {
		if s.Name == name {
			return s, true
		}
	}
	return Suite{}, false
}

// WazeroModule is the module whose source tree holds the suite.
const WazeroModule = "github.com/tetratelabs/wazero@v1.12.0"

// SuiteDir locates the wast2json files of suite (a Suites name): a Local suite's in this
// package, the others in wazero's module in the module cache, via `go mod download -json`. The environment variable HLWASM_SPEC_DIR overrides the directory
// that holds the suites' folders.
func SuiteDir(suite string) (string, error) {
	if s, ok := SuiteNamed(suite); ok && s.Local {
		return LocalSuiteDir(suite)
	}
	if d := os.Getenv("HLWASM_SPEC_DIR"); d != "" {
		return filepath.Join(d, suite, "testdata"), nil
	}
	out, err := exec.Command("go", "mod", "download", "-json", WazeroModule).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", WazeroModule, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", WazeroModule, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no directory (%s)", WazeroModule, info.Error)
	}
	return filepath.Join(info.Dir, "internal", "integration_test", "spectest", suite, "testdata"), nil
}

// LocalSuiteDir is the directory of a Local suite: testdata/<suite> of this package, found from
// the source file's location so that it works from any working directory.
func LocalSuiteDir(suite string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("spectest: cannot locate the package directory")
	}
	return filepath.Join(filepath.Dir(file), "testdata", suite), nil
}

// SuiteFiles lists the JSON files of a suite directory, sorted.
func SuiteFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no .json files in %s", dir)
	}
	return names, nil
}
