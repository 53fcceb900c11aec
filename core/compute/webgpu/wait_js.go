//go:build js

package webgpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// wait blocks until the browser runs the map callback; the caller must not
// be on the goroutine of a JS callback.
func (b *Backend) wait(done chan wgpu.BufferMapAsyncStatus) (wgpu.BufferMapAsyncStatus, error) {
	return <-done, nil
}

// pickAdapter asks the browser for its adapter.
func pickAdapter(inst *wgpu.Instance, allowCPU bool) (*wgpu.Adapter, error) {
	a, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil || a == nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	return a, nil
}
