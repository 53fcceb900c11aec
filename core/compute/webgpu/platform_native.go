//go:build cgo && !js

package webgpu

import (
	"fmt"
	"os"
	"strings"

	"github.com/cogentcore/webgpu/wgpu"
)

// host holds wgpu-native's instance and adapter.
type host struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
}

// checkHost finds nothing missing: wgpu-native is linked in, and adapters
// are asked for next.
func checkHost() error { return nil }

// open finds an adapter and a device on it with the adapter's own limits.
// The binding's DeviceLostCallback is not used: it hands C a Go pointer,
// which cgo's checks refuse. A lost device shows as errors from the calls
// that follow, which are device failures all the same.
func (b *Backend) open(allowCPU bool) error {
	// A nil descriptor: with one, wgpu-native v0.23's instance extras reach
	// the driver partly uninitialised and its GL probe panicked
	// ("Unknown gles3 minor version") in our tests.
	quietHost()
	inst := wgpu.CreateInstance(nil)
	ad, err := pickAdapter(inst, allowCPU)
	if err != nil {
		inst.Release()
		return err
	}
	b.info = ad.GetInfo()
	lim := ad.GetLimits().Limits
	// The binding's GetLimits leaves its chained extras struct
	// uninitialised, and wgpu-native fills it only when the garbage happens
	// to carry the right type tag: MaxPushConstantSize is then whatever the
	// heap held, and asking for it failed RequestDevice in 2-3% of opens.
	// The kernels use no push constants.
	lim.MaxPushConstantSize = 0
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{Label: "tessera", RequiredLimits: &wgpu.RequiredLimits{Limits: lim}})
	if err != nil {
		ad.Release()
		inst.Release()
		return fmt.Errorf("webgpu: requesting a device on %s: %w", b.info.Name, err)
	}
	b.instance, b.adapter, b.device = inst, ad, dev
	return nil
}

// quietHost keeps headless runs free of noise that reads like a failure.
// Without a session, the Vulkan drivers' Wayland probe prints "error:
// XDG_RUNTIME_DIR is invalid or not set" for every instance; an absolute
// WAYLAND_DISPLAY that names nothing makes that probe fail silently (there
// is no compositor to find either way). wgpu-native's own warnings (missing
// extensions, no windowing system) are dropped unless TESSERA_WGPU_LOG asks
// for them (warn, info, debug); its errors reach us as errors anyway.
func quietHost() {
	if os.Getenv("XDG_RUNTIME_DIR") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		os.Setenv("WAYLAND_DISPLAY", "/nonexistent/tessera-headless")
	}
	level := wgpu.LogLevelError
	switch strings.ToLower(os.Getenv("TESSERA_WGPU_LOG")) {
	case "warn":
		level = wgpu.LogLevelWarn
	case "info":
		level = wgpu.LogLevelInfo
	case "debug":
		level = wgpu.LogLevelDebug
	}
	wgpu.SetLogLevel(level)
}

func (b *Backend) closeHost() {
	b.device.Release()
	b.adapter.Release()
	b.instance.Release()
}

// beginScope and endScope bracket work whose errors arrive late; natively
// every call returns its own error, so there is nothing to collect.
func (b *Backend) beginScope()     {}
func (b *Backend) endScope() error { return nil }

// wait polls the device until the map callback has fired, or the device
// is lost.
func (b *Backend) wait(done chan wgpu.BufferMapAsyncStatus) (wgpu.BufferMapAsyncStatus, error) {
	for {
		select {
		case s := <-done:
			return s, nil
		default:
			b.device.Poll(false, nil)
			if err := b.Err(); err != nil {
				return 0, err
			}
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
