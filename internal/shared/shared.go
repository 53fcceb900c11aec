// Package shared locates the project's read-only shared material (models,
// golden outputs, data sets) for tests. It is found at $TESSERA_SHARED, or
// at ../shared beside the repository.
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
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/shared/shared.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
}

// Weights returns the path of a model file, honouring TESSERA_WEIGHTS.
func Weights(tb testing.TB, name string) string {
	tb.Helper()
	if d := os.Getenv("TESSERA_WEIGHTS"); d != "" {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return Path(tb, "weights", name)
}
