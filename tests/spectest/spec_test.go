package spectest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// optionsFromEnv reads HLWASM_SPEC_CMD_TIMEOUT (a time.Duration, e.g. "5s").
func optionsFromEnv() (Options, error) {
	var opt Options
	if s := os.Getenv("HLWASM_SPEC_CMD_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return opt, fmt.Errorf("HLWASM_SPEC_CMD_TIMEOUT: %w", err)
		}
		opt.CommandTimeout = d
	}
	return opt, nil
}

// TestSpec runs each suite file as a subtest; -v shows the per-file counts:
//
//	go test ./tests/spectest -run TestSpec/v2/i32 -v
//	HLWASM_SPEC_BACKEND=wazero go test ./tests/spectest -run TestSpec/v1 -v
//
// With the micro-VM backend by default both tiers run: v1 and v2 on compiled code, then
// v1-interp and v2-interp on the interpreter (microvm-interp).
func TestSpec(t *testing.T) {
	for _, suite := range []string{"v1", "v2"} {
		bs, err := BackendsFor(suite)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range bs {
			name := suite
			if i > 0 {
				name += "-" + strings.TrimPrefix(b.Name(), "microvm-")
			}
			runSuite(t, name, suite, b)
		}
	}
}

func runSuite(t *testing.T, name, suite string, b Backend) {
	t.Run(name, func(t *testing.T) {
		dir, err := SuiteDir(suite)
		if err != nil {
			t.Fatal(err)
		}
		files, err := SuiteFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := optionsFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		total := &Result{}
		for _, name := range files {
			t.Run(name, func(t *testing.T) {
				res, err := RunFile(context.Background(), b, dir, name, opt)
				if err != nil {
					total.Failed++
					t.Fatal(err)
				}
				total.Add(res)
				fmt.Println(res)
				for _, s := range res.Skips {
					fmt.Println("  skipped:", s)
				}
				for _, s := range res.Failures {
					t.Error(s)
				}
			})
		}
		line := fmt.Sprintf("spectest: %d passed, %d failed, %d skipped", total.Passed, total.Failed, total.Skipped)
		if total.NA > 0 {
			line += fmt.Sprintf(", %d n/a (text-format modules)", total.NA)
		}
		fmt.Printf("%s [%s %s]\n", line, b.Name(), suite)
	})
}
