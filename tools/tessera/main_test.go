package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs the command itself when the tests re-execute this binary
// with TESSERA_RUN_MAIN=1, so exit codes are tested as a shell sees them.
func TestMain(m *testing.M) {
	if os.Getenv("TESSERA_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"--help"}, 0, "examples:"},
		{[]string{"help", "fit"}, 0, "tessera fit --data site/sample"},
		{[]string{"fit", "--help"}, 0, "-coreset"},
		{[]string{"predict", "-h"}, 0, "tessera predict --bank"},
		{[]string{"version"}, 0, "cpu backend: cpu"},
		{[]string{"--version"}, 0, "revision"},
		{nil, 2, "usage: tessera COMMAND"},
		{[]string{"fitt"}, 1, `unknown command "fitt"`},
		{[]string{"fit", "--nope"}, 1, "flag provided but not defined"},
		// Bad values are errors naming them, never a panic, NaN included.
		{fitWith("--k", "0"), 1, "k = 0 nearest neighbours"},
		{fitWith("--coreset", "0"), 1, "coreset fraction 0"},
		{fitWith("--coreset", "NaN"), 1, "coreset fraction NaN"},
		{fitWith("--dim", "0"), 1, "dimensions 0 and 0"},
		{fitWith("--quantile", "NaN"), 1, "quantile NaN"},
		{fitWith("--holdout", "NaN"), 1, "holdout NaN"},
		{fitWith("--holdout", "1"), 1, "holdout 1 is not in [0, 1)"},
		{[]string{"bench", "--rounds", "0"}, 1, "--rounds 0 and --runs 30 must be at least 1"},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), "TESSERA_RUN_MAIN=1")
		out, err := cmd.CombinedOutput()
		code := 0
		if e, ok := err.(*exec.ExitError); ok {
			code = e.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.output) {
			t.Errorf("tessera %v: exit %d, want %d; output should contain %q:\n%s", tc.args, code, tc.code, tc.output, out)
		}
	}
}

func fitWith(flag, value string) []string {
	return []string{"fit", "-q", "--data", "../../site/sample", "--out", os.DevNull, flag, value}
}
