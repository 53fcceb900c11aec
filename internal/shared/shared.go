// Package shared locates test material: the project's read-only shared
// folder (models, golden outputs, data sets), found at $TESSERA_SHARED or
// at ../shared beside the repository, and the material the repository
// ships itself (the default model, its golden outputs, the sample images),
// so a fresh clone tests without ../shared.
package shared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Path returns the path of elem inside the shared folder. When it is
// missing the test is skipped with the reason, except under CI=true, where
// missing material is a failure.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root()}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared material missing under CI: %v", err)
		}
		tb.Skipf("shared material missing (set TESSERA_SHARED): %v", err)
	}
	return p
}

// Root is the shared folder's path.
func Root() string {
	if d := os.Getenv("TESSERA_SHARED"); d != "" {
		return d
	}
	return filepath.Join(Repo(), "..", "shared")
}

// Repo is the repository's root.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/shared/shared.go
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Weights returns the path of a model file: in $TESSERA_WEIGHTS when it is
// there, else in the repository's weights/ (which ships the default
// model), else in the shared folder.
func Weights(tb testing.TB, name string) string {
	tb.Helper()
	dirs := []string{filepath.Join(Repo(), "weights")}
	if d := os.Getenv("TESSERA_WEIGHTS"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return Path(tb, "weights", name)
}

// Sample returns the sample image set the repository ships for the demo
// (site/sample, MVTec layout: hazelnut, CC-BY-4.0).
func Sample(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(Repo(), "site", "sample")
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("the repository's sample set is missing: %v", err)
	}
	return p
}
