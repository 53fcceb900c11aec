//go:build cgo || js

package webgpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/tessera/tessera/core/compute"
)

// kernel is a compiled compute pipeline with its explicit layout: the
// kernel's read-only storage inputs (kernelInputs), then one read-write
// output, then a uniform block of 32-bit parameters.
type kernel struct {
	pipeline *wgpu.ComputePipeline
	layout   *wgpu.BindGroupLayout
}

// kernelInputs is each kernel's number of read-only input buffers.
var kernelInputs = map[string]int{
	"affine": 2, "binary": 2, "depthwise": 3, "gap": 1,
	"matmul": 3, "matmul8": 3, "nearest": 2, "pool": 1, "transpose": 1,
}

// variants are kernels compiled from another kernel's source with
// constants set ahead of it: the matrix product's rows per thread.
var variants = map[string]struct{ file, consts string }{
	"matmul":  {"matmul", "const TM: u32 = 4u;\n"},
	"matmul8": {"matmul", "const TM: u32 = 8u;\n"},
}

// compileKernels compiles every kernel in kernels/.
func (b *Backend) compileKernels() error {
	srcs := map[string]string{}
	for name := range kernelInputs {
		file, consts := name, ""
		if v, ok := variants[name]; ok {
			file, consts = v.file, v.consts
		}
		src, err := kernelFS.ReadFile("kernels/" + file + ".wgsl")
		if err != nil {
			return fmt.Errorf("webgpu: no kernel %s", name)
		}
		srcs[name] = consts + string(src)
	}
	return b.compileSources(srcs)
}

// compileSources compiles kernels from their WGSL source, each in its
// own error scope so that a browser's late error names its kernel.
func (b *Backend) compileSources(srcs map[string]string) error {
	for name, src := range srcs {
		b.beginScope()
		err := b.compile(name, src, kernelInputs[name])
		if serr := b.endScope(); err == nil && serr != nil {
			err = fmt.Errorf("webgpu: compiling kernel %s: %w", name, serr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// compile builds a kernel's pipeline from WGSL source. A failure is the
// driver's: the same source compiles elsewhere.
func (b *Backend) compile(name, src string, inputs int) error {
	mod, err := b.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: name, WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src}})
	if err != nil {
		return fmt.Errorf("webgpu: compiling kernel %s: %w: %v", name, compute.ErrDevice, err)
	}
	defer mod.Release()
	var entries []wgpu.BindGroupLayoutEntry
	for i := 0; i < inputs; i++ {
		entries = append(entries, wgpu.BindGroupLayoutEntry{Binding: uint32(i), Visibility: wgpu.ShaderStageCompute,
			Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeReadOnlyStorage}})
	}
	entries = append(entries,
		wgpu.BindGroupLayoutEntry{Binding: uint32(inputs), Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeStorage}},
		wgpu.BindGroupLayoutEntry{Binding: uint32(inputs + 1), Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform}},
	)
	bgl, err := b.device.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries})
	if err != nil {
		return fmt.Errorf("webgpu: kernel %s layout: %w: %v", name, compute.ErrDevice, err)
	}
	pl, err := b.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
	if err != nil {
		return fmt.Errorf("webgpu: kernel %s pipeline layout: %w: %v", name, compute.ErrDevice, err)
	}
	defer pl.Release()
	p, err := b.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Layout: pl,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"}})
	if err != nil {
		return fmt.Errorf("webgpu: kernel %s pipeline: %w: %v", name, compute.ErrDevice, err)
	}
	b.pipelines[name] = &kernel{pipeline: p, layout: bgl}
	return nil
}

// run dispatches a kernel over total invocations (256 per workgroup, the
// workgroups laid out in 2-D when there are more than the 65535 one
// dimension allows) or over explicit workgroup counts when groups is set.
func (b *Backend) run(name string, params []uint32, total int, groups *[3]uint32, out *wgpu.Buffer, in ...*wgpu.Buffer) {
	if b.Err() != nil {
		return
	}
	defer b.catch("kernel " + name)
	k := b.pipelines[name]
	b.beginScope()
	for len(params)%4 != 0 {
		params = append(params, 0) // uniform blocks are 16-byte aligned
	}
	ub, err := b.device.CreateBufferInit(&wgpu.BufferInitDescriptor{Label: name + " params", Contents: wgpu.ToBytes(params),
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst})
	if err != nil {
		b.failDevice("kernel "+name+" parameters", err)
		return
	}
	defer ub.Release()
	var entries []wgpu.BindGroupEntry
	for i, buf := range append(append(in, out), ub) {
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i), Buffer: buf, Size: wgpu.WholeSize})
	}
	bg, err := b.device.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: name, Layout: k.layout, Entries: entries})
	if err != nil {
		b.failDevice("kernel "+name+" bind group", err)
		return
	}
	defer bg.Release()
	g := [3]uint32{}
	if groups != nil {
		g = *groups
	} else {
		n := uint32((total + 255) / 256)
		g = [3]uint32{min(n, 65535), (n + 65534) / 65535, 1}
	}
	b.rec.Lock()
	defer b.rec.Unlock()
	enc := b.encoder()
	if enc == nil {
		return
	}
	pass := enc.BeginComputePass(nil)
	pass.SetPipeline(k.pipeline)
	pass.SetBindGroup(0, bg, nil)
	pass.DispatchWorkgroups(g[0], g[1], g[2])
	pass.End()
	pass.Release()
	b.recordedOne()
}

// recordedOne counts a command recorded, submitting the recording once it
// holds submitEvery (b.rec held).
func (b *Backend) recordedOne() {
	if b.recorded++; b.recorded >= b.submitEvery {
		b.flush()
	}
}

// submit submits what is recorded now (a read, or Close, needs it done).
func (b *Backend) submit() {
	b.rec.Lock()
	defer b.rec.Unlock()
	b.flush()
}

// encoder returns the command encoder recording the work issued since the
// last submit (b.rec held).
func (b *Backend) encoder() *wgpu.CommandEncoder {
	if b.enc == nil {
		enc, err := b.device.CreateCommandEncoder(nil)
		if err != nil {
			b.failDevice("recording commands", err)
			return nil
		}
		b.enc = enc
	}
	return b.enc
}

// flush submits the recorded work, then destroys the buffers freed while
// it was recorded, which it may read (b.rec held).
func (b *Backend) flush() {
	enc := b.enc
	b.enc, b.recorded = nil, 0
	if enc != nil {
		func() {
			defer b.catch("submitting")
			defer enc.Release()
			cmd, err := enc.Finish(nil)
			if err != nil {
				b.failDevice("submitting", err)
				return
			}
			b.queue.Submit(cmd)
			cmd.Release()
		}()
	}
	for _, buf := range b.doomed {
		buf.Destroy()
		buf.Release()
	}
	clear(b.doomed)
	b.doomed = b.doomed[:0]
}
