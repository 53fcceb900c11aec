// Package backends opens the compute backend a user asks for: "cpu",
// "webgpu" (an error if no GPU can be had), or "auto" (WebGPU on a real
// GPU, else the CPU, saying why).
package backends

import (
	"fmt"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/compute/webgpu"
)

// Choice is an opened backend and what to do when it fails.
type Choice struct {
	Backend compute.Backend
	// Why says why "auto" did not take the GPU; empty when it did, or
	// when the user named the backend.
	Why string
	// Fallback opens the backend to move to when Backend fails as a device
	// mid-run (compute.ErrDevice): the CPU when "auto" took the GPU. It is
	// nil where the user forced a backend, whose failures are errors.
	Fallback func() (compute.Backend, error)
}

// Open returns the backend for kind.
func Open(kind string) (Choice, error) {
	var opts webgpu.Options
	onCPU := func() (compute.Backend, error) { return cpu.New(0), nil }
	switch kind {
	case "cpu":
		return Choice{Backend: cpu.New(0)}, nil
	case "webgpu":
		// Forced: a software adapter is accepted, and failure is an error.
		opts.AllowCPUAdapter = true
		g, err := webgpu.Open(opts)
		if err != nil {
			return Choice{}, fmt.Errorf("backend webgpu: %w", err)
		}
		return Choice{Backend: g}, nil
	case "auto", "":
		g, err := webgpu.Open(opts)
		if err != nil {
			return Choice{Backend: cpu.New(0), Why: fmt.Sprintf("using the CPU: %v", err)}, nil
		}
		return Choice{Backend: g, Fallback: onCPU}, nil
	}
	return Choice{}, fmt.Errorf("unknown backend %q (want auto, webgpu or cpu)", kind)
}
