//go:build js

package webgpu

import (
	"fmt"
	"syscall/js"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
)

// wait blocks until the browser runs the map callback; the caller must not
// be on the goroutine of a JS callback.
func (b *Backend) wait(done chan wgpu.BufferMapAsyncStatus) (wgpu.BufferMapAsyncStatus, error) {
	return <-done, nil
}

// pickAdapter asks the browser for its adapter. A fallback (software)
// adapter such as SwiftShader is taken only when allowed.
func pickAdapter(inst *wgpu.Instance, allowCPU bool) (*wgpu.Adapter, error) {
	if !allowCPU {
		raw, ok := jsx.Await(js.Global().Get("navigator").Get("gpu").Call("requestAdapter"))
		if !ok || !raw.Truthy() {
			return nil, fmt.Errorf("%w: the browser offers none", ErrNoAdapter)
		}
		fallback := raw.Get("isFallbackAdapter")
		if info := raw.Get("info"); info.Truthy() && info.Get("isFallbackAdapter").Truthy() {
			fallback = info.Get("isFallbackAdapter")
		}
		if fallback.Truthy() {
			return nil, fmt.Errorf("%w: only a software adapter (%s), slower than the CPU backend", ErrNoAdapter, raw.Get("info").Get("architecture").String())
		}
	}
	a, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil || a == nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	return a, nil
}
