// Package compute defines the interface between a network executor and the
// hardware that runs it. A Backend owns its tensors (host memory for the
// CPU, buffers for a GPU), so an executor can chain operations without
// copying activations back between layers.
//
// Shapes handed to a Backend have already been checked by the caller; a
// Backend reports failures of its own (a lost device, say) through Err and
// Download rather than per operation.
package compute

import (
	"errors"
	"fmt"
	"math"
)

// ErrDevice marks a failure of the device rather than of the work: the
// same work can be run again on another backend. Backends wrap it, or
// one of the errors below, in what Err, Download and Nearest return.
var ErrDevice = errors.New("device failure")

// ErrDeviceLost is a device that stopped working (a driver reset, a
// removed GPU, a destroyed device); nothing it held survives.
var ErrDeviceLost = fmt.Errorf("%w: device lost", ErrDevice)

// ErrOutOfMemory is a device that cannot hold the work's buffers.
var ErrOutOfMemory = fmt.Errorf("%w: out of device memory", ErrDevice)

// Tensor is a dense, row-major float32 tensor owned by a Backend.
type Tensor interface {
	Shape() []int
}

// Weights is a convolution's or a matrix product's constant operand,
// prepared once by a Backend in whatever layout suits it.
type Weights interface {
	Spec() ConvSpec
}

// ConvSpec describes a 2-D convolution over NCHW tensors.
// Pads are top, left, bottom, right.
type ConvSpec struct {
	OutC, InC, KH, KW int
	StrideH, StrideW  int
	DilH, DilW        int
	PadT, PadL        int
	PadB, PadR        int
	Group             int
}

// OutSize is the output height and width for an h x w input.
func (s ConvSpec) OutSize(h, w int) (int, int) {
	oh := (h+s.PadT+s.PadB-s.DilH*(s.KH-1)-1)/s.StrideH + 1
	ow := (w+s.PadL+s.PadR-s.DilW*(s.KW-1)-1)/s.StrideW + 1
	return oh, ow
}

// Activation clamps a result to [Min, Max] when Clamp is set: ReLU is
// [0, +Inf), ReLU6 is [0, 6].
type Activation struct {
	Clamp    bool
	Min, Max float32
}

// Identity applies no activation.
var Identity = Activation{}

// ReLU is max(x, 0).
var ReLU = Activation{Clamp: true, Min: 0, Max: float32(math.Inf(1))}

// PoolKind selects the reduction of a pooling window.
type PoolKind int

const (
	MaxPool PoolKind = iota
	AvgPool
)

// PoolSpec describes a 2-D pooling window over NCHW tensors. Pads are top,
// left, bottom, right; CeilMode rounds the output size up as ONNX allows.
type PoolSpec struct {
	Kind             PoolKind
	KH, KW           int
	StrideH, StrideW int
	PadT, PadL       int
	PadB, PadR       int
	CountIncludePad  bool
	CeilMode         bool
}

// OutSize is the output height and width for an h x w input.
func (s PoolSpec) OutSize(h, w int) (int, int) {
	div := func(a, b int) int {
		if s.CeilMode {
			q := (a + b - 1) / b
			return q
		}
		return a / b
	}
	oh := div(h+s.PadT+s.PadB-s.KH, s.StrideH) + 1
	ow := div(w+s.PadL+s.PadR-s.KW, s.StrideW) + 1
	// ONNX: in ceil mode the last window must start inside the input or
	// the left padding.
	if s.CeilMode {
		if (oh-1)*s.StrideH >= h+s.PadT {
			oh--
		}
		if (ow-1)*s.StrideW >= w+s.PadL {
			ow--
		}
	}
	return oh, ow
}

// BinaryOp is an element-wise operation of two tensors.
type BinaryOp int

const (
	Add BinaryOp = iota
	Mul
)

// Backend runs tensor operations: it holds tensors (Memory), runs a
// network's layers on them (NetworkOps) and searches reference vectors
// (NeighbourSearch). Implementations are not required to be safe for
// concurrent use.
type Backend interface {
	Memory
	NetworkOps
	NeighbourSearch
}

// Memory is a backend's tensors and its health.
type Memory interface {
	// Name says which device runs the work, e.g. "cpu (2 threads, avx2)".
	Name() string
	// Err returns the first failure the backend met, if any.
	Err() error

	Upload(shape []int, data []float32) Tensor
	Download(t Tensor) ([]float32, error)
	// Release hands a tensor's memory back; t must not be used again.
	Release(t Tensor)
	// Reshape returns a view of t with another shape of the same size.
	Reshape(t Tensor, shape []int) Tensor
}

// NetworkOps are the operators a network's layers run, on tensors of the
// same backend's Memory.
type NetworkOps interface {
	// PrepareConv lays out OIHW weights and an optional bias (nil for none).
	PrepareConv(spec ConvSpec, weight, bias []float32) Weights
	// Conv returns act(conv(x, w) + bias).
	Conv(x Tensor, w Weights, act Activation) Tensor
	// Affine returns act(x*scale[c] + shift[c]) per channel c of an NCHW
	// tensor: a batch normalisation that could not be folded into a Conv.
	Affine(x Tensor, scale, shift []float32, act Activation) Tensor
	// Activate returns act(x).
	Activate(x Tensor, act Activation) Tensor
	// Sigmoid returns 1/(1+exp(-x)).
	Sigmoid(x Tensor) Tensor
	// Binary returns a op b with numpy broadcasting to outShape.
	Binary(op BinaryOp, a, b Tensor, outShape []int) Tensor
	Pool(x Tensor, spec PoolSpec) Tensor
	// GlobalAvgPool averages each channel of an NCHW tensor to N x C x 1 x 1.
	GlobalAvgPool(x Tensor) Tensor
	// Concat joins tensors along axis.
	Concat(axis int, xs []Tensor) Tensor
	// MatMul returns a x b for 2-D a (M x K) and b (K x N).
	MatMul(a, b Tensor) Tensor
	// Transpose2D returns the transpose of a 2-D tensor.
	Transpose2D(a Tensor) Tensor
}

// ResidualConv is a backend that adds a residual connection where a
// convolution writes its output, instead of in a pass of its own (a
// ResNet block's last convolution and its shortcut).
type ResidualConv interface {
	// ConvAdd returns act(conv(x, w) + bias + r), r of the output's shape.
	// With reuse, the caller reads r no more and the result may be r
	// itself, written in place.
	ConvAdd(x Tensor, w Weights, r Tensor, act Activation, reuse bool) Tensor
}

// ExpandedConv is a backend that runs a 1x1 convolution and the
// depthwise convolution that alone reads its output together, a few
// channels at a time, so that the wide tensor between them (MobileNetV2's
// expansion, six times its input) stays in cache.
type ExpandedConv interface {
	// ConvExpanded returns act(dw(expandAct(expand(x)))).
	ConvExpanded(x Tensor, expand Weights, expandAct Activation, dw Weights, act Activation) Tensor
}

// NeighbourSearch is brute-force nearest-neighbour search on the device.
type NeighbourSearch interface {
	// PrepareIndex lays out n reference vectors of d values (row-major)
	// for search.
	PrepareIndex(vectors []float32, n, d int) Index
	// Nearest returns, for each of the nq query rows (d values each), the k
	// smallest squared Euclidean distances to the index's vectors in
	// ascending order: nq*k values.
	Nearest(ix Index, queries []float32, nq, k int) ([]float32, error)
}

// PartBatcher is a backend that runs a batch fastest in parts of
// PartBatch images, one after the other: on a CPU a layer's activations
// for one image stay in cache for the next layer, for eight they do not
// (MobileNetV2 at batch 8 took 6.05 ms an image, at batch 1 4.45, on a
// 2-core AVX-512 machine). An executor splits a larger batch for it.
type PartBatcher interface {
	PartBatch() int
}

// Index is a set of reference vectors laid out by a backend for
// NeighbourSearch (a PatchCore memory bank's vectors, on the device).
type Index interface {
	Len() int
	Dim() int
}

// Size is the number of elements of a shape.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ConcatShape is the shape of the concatenation of shapes along axis.
func ConcatShape(axis int, shapes [][]int) []int {
	out := append([]int(nil), shapes[0]...)
	out[axis] = 0
	for _, s := range shapes {
		out[axis] += s[axis]
	}
	return out
}

// ConcatBlocks lays out that concatenation for row-major data: move is
// called for each contiguous block of n values that input i, from offset
// src, contributes to the output at offset dst.
func ConcatBlocks(axis int, shapes [][]int, move func(i, src, dst, n int)) {
	out := ConcatShape(axis, shapes)
	outer, inner := Size(out[:axis]), Size(out[axis+1:])
	off := 0
	for i, s := range shapes {
		blk := s[axis] * inner
		for o := 0; o < outer; o++ {
			move(i, o*blk, o*out[axis]*inner+off, blk)
		}
		off += blk
	}
}
