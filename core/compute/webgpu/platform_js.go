//go:build js

package webgpu

import (
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
	"github.com/tessera/tessera/core/compute"
)

// host holds the browser's GPUDevice for what the Go binding leaves out:
// its lost promise, error scopes, uncaptured errors and destroy.
type host struct {
	raw        js.Value
	uncaptured js.Func
	scoped     bool // error scopes pushed and not yet popped
}

// checkHost says why this JavaScript host cannot run the backend: Node and
// older browsers have no navigator.gpu, and the bindings copy buffers
// through globalThis.wasm, the page's WebAssembly.instantiate result.
func checkHost() error {
	nav := js.Global().Get("navigator")
	if !nav.Truthy() || !nav.Get("gpu").Truthy() {
		return fmt.Errorf("%w: this JavaScript host has no navigator.gpu", ErrNoAdapter)
	}
	if !js.Global().Get("wasm").Get("instance").Truthy() {
		return errors.New("webgpu: globalThis.wasm is not set; set it to the result of WebAssembly.instantiate before the engine starts")
	}
	return nil
}

// deviceLimits are raised from the WebGPU defaults to what the adapter
// allows: the default 128 MiB storage binding is small for a memory bank.
var deviceLimits = []string{"maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
	"maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupsPerDimension"}

// open asks the browser for an adapter and a device. A fallback (software)
// adapter such as SwiftShader is taken only when allowed.
func (b *Backend) open(allowCPU bool) error {
	obj := func() js.Value { return js.Global().Get("Object").New() }
	opts := obj()
	opts.Set("powerPreference", "high-performance")
	ad, ok := jsx.Await(js.Global().Get("navigator").Get("gpu").Call("requestAdapter", opts))
	if !ok || !ad.Truthy() {
		return fmt.Errorf("%w: the browser offers none", ErrNoAdapter)
	}
	info := ad.Get("info") // GPUAdapterInfo; older browsers lack it
	fallback := ad.Get("isFallbackAdapter").Truthy() || (info.Truthy() && info.Get("isFallbackAdapter").Truthy())
	b.info = adapterInfo(info, fallback)
	if fallback && !allowCPU {
		return fmt.Errorf("%w: only a software adapter (%s), slower than the CPU backend", ErrNoAdapter, b.info.Name)
	}
	req := obj()
	for _, k := range deviceLimits {
		req.Set(k, ad.Get("limits").Get(k))
	}
	desc := obj()
	desc.Set("label", "tessera")
	desc.Set("requiredLimits", req)
	raw, ok := jsx.Await(ad.Call("requestDevice", desc))
	if !ok || !raw.Truthy() {
		return fmt.Errorf("webgpu: requesting a device on %s: %v", b.info.Name, raw)
	}
	// Never released: the promise may settle after Close.
	lost := js.FuncOf(func(_ js.Value, args []js.Value) any {
		b.fail(fmt.Errorf("webgpu: %w (%s): %s", compute.ErrDeviceLost, args[0].Get("reason").String(), args[0].Get("message").String()))
		return nil
	})
	raw.Get("lost").Call("then", lost)
	b.uncaptured = js.FuncOf(func(_ js.Value, args []js.Value) any {
		b.fail(gpuError("device", args[0].Get("error")))
		return nil
	})
	raw.Call("addEventListener", "uncapturederror", b.uncaptured)
	d := wgpu.NewDevice(raw)
	b.raw, b.device = raw, &d
	return nil
}

// adapterInfo fills what wgpu's binding leaves empty in browsers.
func adapterInfo(info js.Value, fallback bool) wgpu.AdapterInfo {
	var ai wgpu.AdapterInfo
	if info.Truthy() {
		ai.VendorName = info.Get("vendor").String()
		ai.Architecture = info.Get("architecture").String()
		ai.DriverDescription = info.Get("description").String()
		ai.Name = strings.TrimSpace(fmt.Sprintf("%s %s %s", ai.VendorName, ai.Architecture, info.Get("device").String()))
	}
	ai.AdapterType = wgpu.AdapterTypeUnknown
	if fallback {
		ai.AdapterType = wgpu.AdapterTypeCPU
	}
	ai.BackendType = wgpu.BackendTypeWebGPU
	return ai
}

// gpuError turns a GPUError into a device failure, out of memory where
// the browser says so.
func gpuError(what string, e js.Value) error {
	msg := e.Get("message").String()
	if e.Get("constructor").Get("name").String() == "GPUOutOfMemoryError" {
		return fmt.Errorf("webgpu: %s: %w: %s", what, compute.ErrOutOfMemory, msg)
	}
	return fmt.Errorf("webgpu: %s: %w: %s", what, compute.ErrDevice, msg)
}

// Destroy destroys the device at once, as a driver reset would: its memory
// is freed, and work still using the backend fails with
// compute.ErrDeviceLost.
func (b *Backend) Destroy() { b.raw.Call("destroy") }

func (b *Backend) closeHost() {
	b.raw.Call("removeEventListener", "uncapturederror", b.uncaptured)
	b.uncaptured.Release()
	b.Destroy()
}

// errorScopes are pushed in this order and popped in reverse.
var errorScopes = []string{"out-of-memory", "validation", "internal"}

// beginScope starts collecting the errors of the calls that follow: in a
// browser they arrive late, so read pops them before trusting its data.
func (b *Backend) beginScope() {
	if b.scoped {
		return
	}
	for _, f := range errorScopes {
		b.raw.Call("pushErrorScope", f)
	}
	b.scoped = true
}

// endScope returns the first error of the calls since beginScope.
func (b *Backend) endScope() error {
	if !b.scoped {
		return nil
	}
	b.scoped = false
	var first error
	for i := len(errorScopes) - 1; i >= 0; i-- {
		e, ok := jsx.Await(b.raw.Call("popErrorScope"))
		switch {
		case !ok && first == nil:
			first = fmt.Errorf("webgpu: %w: %v", compute.ErrDeviceLost, e)
		case ok && e.Truthy() && first == nil:
			first = gpuError(errorScopes[i], e)
		}
	}
	return first
}

// wait blocks until the browser runs the map callback; the caller must not
// be on the goroutine of a JS callback.
func (b *Backend) wait(done chan wgpu.BufferMapAsyncStatus) (wgpu.BufferMapAsyncStatus, error) {
	return <-done, nil
}
