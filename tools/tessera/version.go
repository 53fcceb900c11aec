package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/tessera/tessera/core/compute/cpu"
)

// runVersion prints what was built from what, and what this machine runs:
// the module version and VCS revision Go stamped into the binary, the
// toolchain, and the CPU backend's kernel choice.
func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	version, rev := "(devel)", "unknown (built without VCS stamping: make build, or go build -buildvcs=auto)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified {
			rev += " (modified)"
		}
	}
	fmt.Fprintf(stdout, "tessera %s\nrevision %s\n%s %s/%s\ncpu backend: %s\n",
		version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, cpu.New(0).Name())
	return nil
}
