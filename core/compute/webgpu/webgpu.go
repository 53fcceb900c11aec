//go:build cgo || js

// Package webgpu is the GPU compute backend: WGSL kernels (embedded from
// kernels/) run through github.com/cogentcore/webgpu, natively on
// wgpu-native (Vulkan, Metal, DX12) and in the browser on navigator.gpu.
// Tensors stay in GPU buffers between operators; only Download and the
// nearest-neighbour candidates come back to the host.
package webgpu

import (
	"embed"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/tessera/tessera/core/compute"
)

//go:embed kernels/*.wgsl
var kernelFS embed.FS

// Options configure New.
type Options struct {
	// AllowCPUAdapter accepts a software adapter (lavapipe, SwiftShader):
	// exact but slow, for tests. Without it such an adapter is refused.
	AllowCPUAdapter bool
}

// Backend is the WebGPU implementation of compute.Backend.
type Backend struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
	queue    *wgpu.Queue
	info     wgpu.AdapterInfo
	limits   wgpu.Limits

	mu        sync.Mutex
	err       error
	pipelines map[string]*kernel
}

// Tensor is a GPU tensor: a shape and a storage buffer.
type Tensor struct {
	shape []int
	buf   *wgpu.Buffer
}

func (t *Tensor) Shape() []int { return t.shape }

// ErrNoAdapter is returned when no usable GPU adapter exists.
var ErrNoAdapter = errors.New("webgpu: no GPU adapter")

// New opens the first suitable adapter and a device on it.
func New(opts Options) (b *Backend, err error) {
	defer func() {
		// wgpu-native reports some failures by panicking through cgo.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("webgpu: %v", r)
		}
	}()
	// A nil descriptor: with one, wgpu-native v0.23's instance extras reach
	// the driver partly uninitialised and its GL probe panicked
	// ("Unknown gles3 minor version") in our tests.
	inst := wgpu.CreateInstance(nil)
	if inst == nil {
		return nil, fmt.Errorf("%w: this browser has no WebGPU", ErrNoAdapter)
	}
	ad, err := pickAdapter(inst, opts.AllowCPUAdapter)
	if err != nil {
		inst.Release()
		return nil, err
	}
	info := ad.GetInfo()
	lim := ad.GetLimits().Limits
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{Label: "tessera", RequiredLimits: &wgpu.RequiredLimits{Limits: lim}})
	if err != nil {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("webgpu: requesting a device on %s: %w", info.Name, err)
	}
	return &Backend{instance: inst, adapter: ad, device: dev, queue: dev.GetQueue(), info: info,
		limits: dev.GetLimits().Limits, pipelines: map[string]*kernel{}}, nil
}

// Open is New as a compute.Backend.
func Open(opts Options) (compute.Backend, error) {
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Close releases the device.
func (b *Backend) Close() {
	for _, k := range b.pipelines {
		k.pipeline.Release()
		k.layout.Release()
	}
	b.queue.Release()
	b.device.Release()
	b.adapter.Release()
	b.instance.Release()
}

func (b *Backend) Name() string {
	// wgpu-native fills the fields unevenly (lavapipe's name arrives in the
	// driver description), and browsers leave them empty.
	name := b.info.Name
	if name == "" || strings.HasPrefix(name, "0x") {
		name = b.info.DriverDescription
	}
	if name == "" {
		return "webgpu (browser adapter)"
	}
	return fmt.Sprintf("webgpu (%s, %s adapter, %s)", name, b.info.AdapterType, b.info.BackendType)
}

func (b *Backend) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// fail records the first error; operations after it are skipped.
func (b *Backend) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
}

func (b *Backend) buffer(n int) *wgpu.Buffer {
	size := uint64(max(4*n, 16))
	buf, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{
		Size:  (size + 3) &^ 3,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		b.fail(fmt.Errorf("webgpu: allocating %d bytes: %w", size, err))
		return nil
	}
	return buf
}

func (b *Backend) alloc(shape []int) *Tensor {
	return &Tensor{shape: append([]int(nil), shape...), buf: b.buffer(compute.Size(shape))}
}

func (b *Backend) upload(data []float32) *wgpu.Buffer {
	buf := b.buffer(len(data))
	if buf != nil && len(data) > 0 {
		if err := b.queue.WriteBuffer(buf, 0, wgpu.ToBytes(data)); err != nil {
			b.fail(err)
		}
	}
	return buf
}

func (b *Backend) Upload(shape []int, data []float32) compute.Tensor {
	return &Tensor{shape: append([]int(nil), shape...), buf: b.upload(data)}
}

// read copies n floats from a buffer back to the host.
func (b *Backend) read(src *wgpu.Buffer, n int) ([]float32, error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	size := uint64(4 * n)
	if size == 0 {
		return nil, nil
	}
	staging, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{Size: size, Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst})
	if err != nil {
		return nil, err
	}
	defer staging.Release()
	enc, err := b.device.CreateCommandEncoder(nil)
	if err != nil {
		return nil, err
	}
	if err := enc.CopyBufferToBuffer(src, 0, staging, 0, size); err != nil {
		return nil, err
	}
	cmd, err := enc.Finish(nil)
	enc.Release()
	if err != nil {
		return nil, err
	}
	b.queue.Submit(cmd)
	cmd.Release()
	// The map callback is the only reliable signal: Poll(true) may give up
	// early and BufferMapAsyncStatusSuccess is the zero value.
	done := make(chan wgpu.BufferMapAsyncStatus, 1)
	if err := staging.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { done <- s }); err != nil {
		return nil, err
	}
	status, err := b.wait(done)
	if err != nil {
		return nil, err
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return nil, fmt.Errorf("webgpu: mapping a buffer failed: %v", status)
	}
	out := make([]float32, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), size), staging.GetMappedRange(0, uint(size)))
	staging.Unmap()
	return out, nil
}

func (b *Backend) Download(t compute.Tensor) ([]float32, error) {
	gt := t.(*Tensor)
	return b.read(gt.buf, compute.Size(gt.shape))
}

func (b *Backend) Release(t compute.Tensor) {
	gt := t.(*Tensor)
	if gt.buf != nil {
		// Destroy frees the GPU memory now (Release is a no-op on js).
		gt.buf.Destroy()
		gt.buf.Release()
		gt.buf = nil
	}
}

func (b *Backend) Reshape(t compute.Tensor, shape []int) compute.Tensor {
	gt := t.(*Tensor)
	out := b.alloc(shape)
	b.copy(gt.buf, 0, out.buf, 0, compute.Size(shape))
	return out
}

// copy copies n floats between buffers on the GPU.
func (b *Backend) copy(src *wgpu.Buffer, srcOff int, dst *wgpu.Buffer, dstOff int, n int) {
	if b.Err() != nil || n == 0 {
		return
	}
	enc, err := b.device.CreateCommandEncoder(nil)
	if err != nil {
		b.fail(err)
		return
	}
	defer enc.Release()
	if err := enc.CopyBufferToBuffer(src, uint64(4*srcOff), dst, uint64(4*dstOff), uint64(4*n)); err != nil {
		b.fail(err)
		return
	}
	cmd, err := enc.Finish(nil)
	if err != nil {
		b.fail(err)
		return
	}
	b.queue.Submit(cmd)
	cmd.Release()
}

// f32 packs a float into a parameter word.
func f32(v float32) uint32 { return math.Float32bits(v) }

// Finish waits until every operation issued so far has run on the GPU.
func (b *Backend) Finish() error {
	probe := b.buffer(1)
	defer probe.Destroy()
	_, err := b.read(probe, 1)
	return err
}
