package spectest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// WazeroModule is the module whose source tree holds the suite.
const WazeroModule = "github.com/tetratelabs/wazero@v1.12.0"

// SuiteDir locates the wast2json files of suite ("v1" or "v2") in the module cache, via
// `go mod download -json`. The environment variable HLWASM_SPEC_DIR overrides the directory
// that holds the v1 and v2 folders.
func SuiteDir(suite string) (string, error) {
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
