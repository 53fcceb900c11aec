//go:build cgo || js

package webgpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// kernel is a compiled compute pipeline with its explicit layout: inputs
// read-only storage buffers, then one read-write output, then a uniform
// block of 32-bit parameters.
type kernel struct {
	pipeline *wgpu.ComputePipeline
	layout   *wgpu.BindGroupLayout
	inputs   int
}

// kernelFor compiles kernels/<name>.wgsl on first use.
func (b *Backend) kernelFor(name string, inputs int) (*kernel, error) {
	if k, ok := b.pipelines[name]; ok {
		return k, nil
	}
	src, err := kernelFS.ReadFile("kernels/" + name + ".wgsl")
	if err != nil {
		return nil, fmt.Errorf("webgpu: no kernel %s", name)
	}
	mod, err := b.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: name, WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: string(src)}})
	if err != nil {
		return nil, fmt.Errorf("webgpu: compiling kernel %s: %w", name, err)
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
		return nil, fmt.Errorf("webgpu: kernel %s layout: %w", name, err)
	}
	pl, err := b.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
	if err != nil {
		return nil, fmt.Errorf("webgpu: kernel %s pipeline layout: %w", name, err)
	}
	defer pl.Release()
	p, err := b.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Layout: pl,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"}})
	if err != nil {
		return nil, fmt.Errorf("webgpu: kernel %s pipeline: %w", name, err)
	}
	k := &kernel{pipeline: p, layout: bgl, inputs: inputs}
	b.pipelines[name] = k
	return k, nil
}

// run dispatches a kernel over total invocations (256 per workgroup, the
// workgroups laid out in 2-D when there are more than the 65535 one
// dimension allows) or over explicit workgroup counts when groups is set.
func (b *Backend) run(name string, params []uint32, total int, groups *[3]uint32, out *wgpu.Buffer, in ...*wgpu.Buffer) {
	if b.Err() != nil {
		return
	}
	k, err := b.kernelFor(name, len(in))
	if err != nil {
		b.fail(err)
		return
	}
	for len(params)%4 != 0 {
		params = append(params, 0) // uniform blocks are 16-byte aligned
	}
	ub, err := b.device.CreateBufferInit(&wgpu.BufferInitDescriptor{Label: name + " params", Contents: wgpu.ToBytes(params),
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst})
	if err != nil {
		b.fail(err)
		return
	}
	defer ub.Release()
	var entries []wgpu.BindGroupEntry
	for i, buf := range append(append(in, out), ub) {
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i), Buffer: buf, Size: wgpu.WholeSize})
	}
	bg, err := b.device.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: name, Layout: k.layout, Entries: entries})
	if err != nil {
		b.fail(fmt.Errorf("webgpu: kernel %s bind group: %w", name, err))
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
	enc, err := b.device.CreateCommandEncoder(nil)
	if err != nil {
		b.fail(err)
		return
	}
	defer enc.Release()
	pass := enc.BeginComputePass(nil)
	pass.SetPipeline(k.pipeline)
	pass.SetBindGroup(0, bg, nil)
	pass.DispatchWorkgroups(g[0], g[1], g[2])
	pass.End()
	pass.Release()
	cmd, err := enc.Finish(nil)
	if err != nil {
		b.fail(fmt.Errorf("webgpu: kernel %s: %w", name, err))
		return
	}
	b.queue.Submit(cmd)
	cmd.Release()
}
