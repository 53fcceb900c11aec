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

// Open returns the device for kind. why says why "auto" did not take
// the GPU (empty when it did, or when the user named the backend). When
// "auto" took the GPU the device moves to the CPU after a device failure
// mid-run, telling log (when not nil); a backend the user named has no
// fallback, and its failures are errors.
func Open(kind string, log func(msg string)) (dev *compute.Device, why string, err error) {
	var opts webgpu.Options
	onCPU := func() (compute.Backend, error) { return cpu.New(0), nil }
	switch kind {
	case "cpu":
		return compute.Fixed(cpu.New(0)), "", nil
	case "webgpu":
		// Forced: a software adapter is accepted, and failure is an error.
		opts.AllowCPUAdapter = true
		g, err := webgpu.Open(opts)
		if err != nil {
			return nil, "", fmt.Errorf("backend webgpu: %w", err)
		}
		return compute.Fixed(g), "", nil
	case "auto", "":
		g, err := webgpu.Open(opts)
		if err != nil {
			return compute.Fixed(cpu.New(0)), fmt.Sprintf("using the CPU: %v", err), nil
		}
		return compute.NewDevice(g, onCPU, log), "", nil
	}
	return nil, "", fmt.Errorf("unknown backend %q (want auto, webgpu or cpu)", kind)
}
