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
	// MemoryLimit caps the bytes of buffers the backend holds at once; 0
	// leaves only the device's own limits. Work that needs more fails with
	// compute.ErrOutOfMemory, as it would on a device that ran out.
	MemoryLimit int64
	// SubmitEvery is how many kernels and copies are recorded into one
	// command buffer before it is submitted without waiting for a read
	// (DefaultSubmitEvery when 0). A submit per kernel costs more than a
	// small kernel on a fast GPU; a submit per network would leave the GPU
	// idle while the first kernels are recorded.
	SubmitEvery int
}

// DefaultSubmitEvery is Options.SubmitEvery's default, ONNX Runtime Web's
// figure. On lavapipe fewer per submit run faster (MobileNetV2 at batch 4:
// 229 ms an image at 1, 272 at 16, 413 at 64), since it runs a command
// buffer's kernels one after another; real GPUs are timed by tools/gpubench.
const DefaultSubmitEvery = 16

// Backend is the WebGPU implementation of compute.Backend.
type Backend struct {
	host   // the platform's handles: wgpu-native's instance, or the browser's device
	device *wgpu.Device
	queue  *wgpu.Queue
	info   wgpu.AdapterInfo
	limits wgpu.Limits

	pipelines map[string]*kernel

	// rec guards the recording: enc collects the kernels and copies issued
	// since the last submit (recorded of them), and doomed the buffers
	// freed since, destroyed once that work is submitted.
	rec         sync.Mutex
	enc         *wgpu.CommandEncoder
	recorded    int
	submitEvery int
	doomed      []*wgpu.Buffer

	maxScratch uint64 // bytes of a search's query chunk buffers (tests set it smaller)

	mu    sync.Mutex
	err   error
	sizes map[*wgpu.Buffer]uint64 // live buffers, for MemoryLimit
	held  uint64
	limit uint64
}

// Tensor is a GPU tensor: a shape and a storage buffer.
type Tensor struct {
	shape []int
	buf   *wgpu.Buffer
}

func (t *Tensor) Shape() []int { return t.shape }

// ErrNoAdapter is returned when no usable GPU adapter exists.
var ErrNoAdapter = errors.New("webgpu: no GPU adapter")

// New opens the first suitable adapter and a device on it, and compiles
// every kernel, so that a driver that cannot run them is found here.
func New(opts Options) (b *Backend, err error) {
	defer func() {
		// wgpu-native reports some failures by panicking through cgo.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("webgpu: %v", r)
		}
	}()
	if err := checkHost(); err != nil {
		return nil, err
	}
	b = &Backend{pipelines: map[string]*kernel{}, sizes: map[*wgpu.Buffer]uint64{}, limit: uint64(max(opts.MemoryLimit, 0)), submitEvery: opts.SubmitEvery}
	b.maxScratch = defaultMaxScratch
	if b.submitEvery <= 0 {
		b.submitEvery = DefaultSubmitEvery
	}
	if err := b.open(opts.AllowCPUAdapter); err != nil {
		return nil, err
	}
	b.queue = b.device.GetQueue()
	b.limits = b.device.GetLimits().Limits
	if err := b.compileKernels(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Open is New as a compute.Backend.
func Open(opts Options) (compute.Backend, error) {
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Close releases the device (a browser's is destroyed, freeing its memory
// at once); the backend must not be used again.
func (b *Backend) Close() {
	b.submit()
	for _, k := range b.pipelines {
		k.pipeline.Release()
		k.layout.Release()
	}
	b.pipelines = nil
	b.queue.Release()
	b.closeHost()
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

// failDevice records an error a wgpu call returned. Kernels and buffer
// sizes are checked before they reach the device, so such an error is the
// device's (an allocation it could not make, a lost device), and the work
// can be done elsewhere.
func (b *Backend) failDevice(what string, err error) {
	b.fail(fmt.Errorf("webgpu: %s: %w: %v", what, compute.ErrDevice, err))
}

// newBuffer makes a buffer of size bytes, within the device's limits and
// the backend's memory limit.
func (b *Backend) newBuffer(size uint64, usage wgpu.BufferUsage) (buf *wgpu.Buffer) {
	defer b.catch("allocating")
	size = (max(size, 16) + 3) &^ 3
	if usage&wgpu.BufferUsageStorage != 0 && (size > b.limits.MaxBufferSize || size > b.limits.MaxStorageBufferBindingSize) {
		b.fail(fmt.Errorf("webgpu: a %s buffer is larger than the device allows (%s): %w",
			mib(size), mib(min(b.limits.MaxBufferSize, b.limits.MaxStorageBufferBindingSize)), compute.ErrOutOfMemory))
		return nil
	}
	b.mu.Lock()
	over := b.limit > 0 && b.held+size > b.limit
	held := b.held
	b.mu.Unlock()
	if over {
		b.fail(fmt.Errorf("webgpu: a %s buffer on top of %s held passes the memory limit of %s: %w",
			mib(size), mib(held), mib(b.limit), compute.ErrOutOfMemory))
		return nil
	}
	b.beginScope()
	buf, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{Size: size, Usage: usage})
	if err != nil {
		b.failDevice(fmt.Sprintf("allocating %s", mib(size)), err)
		return nil
	}
	b.mu.Lock()
	b.sizes[buf] = size
	b.held += size
	b.mu.Unlock()
	return buf
}

// free destroys a buffer now (Release alone is a no-op in browsers).
func (b *Backend) free(buf *wgpu.Buffer) {
	if buf == nil {
		return
	}
	b.mu.Lock()
	b.held -= b.sizes[buf]
	delete(b.sizes, buf)
	b.mu.Unlock()
	b.rec.Lock()
	defer b.rec.Unlock()
	if b.enc != nil {
		b.doomed = append(b.doomed, buf) // recorded work may still read it
		return
	}
	buf.Destroy()
	buf.Release()
}

// Held is the bytes of buffers the backend holds now.
func (b *Backend) Held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(b.held)
}

// catch turns a panic out of a wgpu call (wgpu-native panics through cgo
// on some failures, a browser's bindings throw) into a device failure, so
// that the work can go elsewhere instead of the process ending.
func (b *Backend) catch(what string) {
	if r := recover(); r != nil {
		b.failDevice(what, fmt.Errorf("%v", r))
	}
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// buffer makes a storage buffer of n floats.
func (b *Backend) buffer(n int) *wgpu.Buffer {
	if b.Err() != nil {
		return nil
	}
	return b.newBuffer(uint64(4*n), wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc|wgpu.BufferUsageCopyDst)
}

func (b *Backend) alloc(shape []int) *Tensor {
	return &Tensor{shape: append([]int(nil), shape...), buf: b.buffer(compute.Size(shape))}
}

func (b *Backend) upload(data []float32) *wgpu.Buffer {
	defer b.catch("uploading")
	buf := b.buffer(len(data))
	if buf != nil && len(data) > 0 {
		if err := b.write(buf, wgpu.ToBytes(data)); err != nil {
			b.failDevice("uploading", err)
		}
	}
	return buf
}

// write copies data to the start of buf. In the browser the bindings
// view Go's memory through the wasm memory's ArrayBuffer; when the Go
// heap grows that memory between taking the buffer and making the view
// (the call's own arguments can), the buffer is detached and the write
// throws. It is tried again then, on the grown memory (seen once in the
// browser tests, TestDeviceLostFallsBack, on 2026-12-01).
func (b *Backend) write(buf *wgpu.Buffer, data []byte) error {
	for try := 0; ; try++ {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			return b.queue.WriteBuffer(buf, 0, data)
		}()
		if err == nil || try == 2 || !strings.Contains(err.Error(), "detached ArrayBuffer") {
			return err
		}
	}
}

func (b *Backend) Upload(shape []int, data []float32) compute.Tensor {
	return &Tensor{shape: append([]int(nil), shape...), buf: b.upload(data)}
}

// read copies n floats from a buffer back to the host. It is where the
// device's failures since the last read come to light.
func (b *Backend) read(src *wgpu.Buffer, n int) (out []float32, err error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	defer func() {
		// A lost device makes the browser's getMappedRange throw.
		if r := recover(); r != nil {
			b.failDevice("reading back", fmt.Errorf("%v", r))
			out, err = nil, b.Err()
		}
	}()
	size := uint64(4 * n)
	staging := b.newBuffer(size, wgpu.BufferUsageMapRead|wgpu.BufferUsageCopyDst)
	if staging == nil {
		return nil, b.Err()
	}
	defer b.free(staging)
	b.copyBytes(src, 0, staging, 0, size)
	b.submit()
	if err := b.Err(); err != nil {
		return nil, err
	}
	// The map callback is the only reliable signal: Poll(true) may give up
	// early and BufferMapAsyncStatusSuccess is the zero value.
	done := make(chan wgpu.BufferMapAsyncStatus, 1)
	if err := staging.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { done <- s }); err != nil {
		b.failDevice("mapping a buffer", err)
		return nil, b.Err()
	}
	status, err := b.wait(done)
	if err == nil {
		err = b.endScope()
	}
	if err != nil {
		b.fail(err)
		return nil, b.Err()
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		b.failDevice("mapping a buffer", fmt.Errorf("status %v", status))
		return nil, b.Err()
	}
	out = make([]float32, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), size), staging.GetMappedRange(0, uint(size)))
	staging.Unmap()
	return out, b.Err()
}

func (b *Backend) Download(t compute.Tensor) ([]float32, error) {
	gt := t.(*Tensor)
	return b.read(gt.buf, compute.Size(gt.shape))
}

func (b *Backend) Release(t compute.Tensor) {
	gt := t.(*Tensor)
	b.free(gt.buf)
	gt.buf = nil
}

func (b *Backend) Reshape(t compute.Tensor, shape []int) compute.Tensor {
	gt := t.(*Tensor)
	out := b.alloc(shape)
	b.copy(gt.buf, 0, out.buf, 0, compute.Size(shape))
	return out
}

// copy copies n floats between buffers on the GPU.
func (b *Backend) copy(src *wgpu.Buffer, srcOff int, dst *wgpu.Buffer, dstOff int, n int) {
	b.copyBytes(src, uint64(4*srcOff), dst, uint64(4*dstOff), uint64(4*n))
}

func (b *Backend) copyBytes(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff uint64, size uint64) {
	if b.Err() != nil || size == 0 {
		return
	}
	defer b.catch("copying")
	b.beginScope()
	b.rec.Lock()
	defer b.rec.Unlock()
	enc := b.encoder()
	if enc == nil {
		return
	}
	if err := enc.CopyBufferToBuffer(src, srcOff, dst, dstOff, size); err != nil {
		b.failDevice("copying", err)
		return
	}
	b.recordedOne()
}

// f32 packs a float into a parameter word.
func f32(v float32) uint32 { return math.Float32bits(v) }

// Finish waits until every operation issued so far has run on the GPU.
func (b *Backend) Finish() error {
	probe := b.buffer(1)
	defer b.free(probe)
	_, err := b.read(probe, 1)
	return err
}
