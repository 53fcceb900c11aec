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

// Open returns the backend for kind, and when "auto" fell back to the
// CPU, the reason.
func Open(kind string) (b compute.Backend, fallback string, err error) {
	switch kind {
	case "cpu":
		return cpu.New(0), "", nil
	case "webgpu":
		// Forced: a software adapter is accepted, and failure is an error.
		g, err := webgpu.Open(webgpu.Options{AllowCPUAdapter: true})
		if err != nil {
			return nil, "", fmt.Errorf("backend webgpu: %w", err)
		}
		return g, "", nil
	case "auto", "":
		g, err := webgpu.Open(webgpu.Options{})
		if err != nil {
			return cpu.New(0), fmt.Sprintf("using the CPU: %v", err), nil
		}
		return g, "", nil
	}
	return nil, "", fmt.Errorf("unknown backend %q (want auto, webgpu or cpu)", kind)
}
