//go:build cgo && !js

package webgpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// wait polls the device until the map callback has fired.
func (b *Backend) wait(done chan wgpu.BufferMapAsyncStatus) (wgpu.BufferMapAsyncStatus, error) {
	for {
		select {
		case s := <-done:
			return s, nil
		default:
			b.device.Poll(false, nil)
		}
	}
}

// pickAdapter takes a GPU on a primary backend (Vulkan, Metal, DX12),
// else, when allowed, a software one; OpenGL adapters are passed over.
func pickAdapter(inst *wgpu.Instance, allowCPU bool) (*wgpu.Adapter, error) {
	var gpu, soft *wgpu.Adapter
	for _, a := range inst.EnumerateAdapters(&wgpu.InstanceEnumerateAdapterOptons{Backends: wgpu.InstanceBackendPrimary}) {
		info := a.GetInfo()
		switch {
		case info.BackendType == wgpu.BackendTypeOpenGL:
		case info.AdapterType == wgpu.AdapterTypeCPU:
			if soft == nil {
				soft = a
				continue
			}
		case gpu == nil:
			gpu = a
			continue
		}
		a.Release()
	}
	switch {
	case gpu != nil:
		if soft != nil {
			soft.Release()
		}
		return gpu, nil
	case soft != nil && allowCPU:
		return soft, nil
	case soft != nil:
		name := soft.GetInfo().DriverDescription
		soft.Release()
		return nil, fmt.Errorf("%w: only a software adapter (%s), slower than the CPU backend", ErrNoAdapter, name)
	}
	return nil, fmt.Errorf("%w on Vulkan, Metal or DX12", ErrNoAdapter)
}
