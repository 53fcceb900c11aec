//go:build !cgo && !js

// Package webgpu is the GPU compute backend. This build has no cgo, which
// the native WebGPU library needs, so New always fails and callers fall
// back to the CPU backend.
package webgpu

import (
	"errors"

	"github.com/tessera/tessera/core/compute"
)

// Options configure New.
type Options struct {
	AllowCPUAdapter bool
	MemoryLimit     int64
	SubmitEvery     int
}

// ErrNoAdapter is returned when no usable GPU adapter exists.
var ErrNoAdapter = errors.New("webgpu: no GPU adapter")

// Open reports that WebGPU is unavailable in a build without cgo.
func Open(Options) (compute.Backend, error) {
	return nil, errors.New("webgpu: not available in a build without cgo (CGO_ENABLED=0)")
}
