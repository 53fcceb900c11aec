// Package onnxtest encodes small ONNX models for tests: enough of the
// protobuf wire format to describe single operators and short chains,
// without depending on onnx-go's internal types.
package onnxtest

import (
	"encoding/binary"
	"math"
)

// Model is an ONNX graph to encode. Opset defaults to 13.
type Model struct {
	Opset   int64
	Inputs  []Value
	Outputs []Value
	Nodes   []Node
	Inits   []Tensor
}

// Value is a graph input or output; a negative dimension is dynamic.
type Value struct {
	Name  string
	Shape []int64
}

// Node is one operator.
type Node struct {
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Attr is an attribute: exactly one of the value fields is used, chosen
// by Kind ("int", "float", "ints", "string").
type Attr struct {
	Name  string
	Kind  string
	Int   int64
	Float float32
	Ints  []int64
	Str   string
}

// Int, Float, Ints and String make attributes.
func Int(name string, v int64) Attr     { return Attr{Name: name, Kind: "int", Int: v} }
func Float(name string, v float32) Attr { return Attr{Name: name, Kind: "float", Float: v} }
func Ints(name string, v ...int64) Attr { return Attr{Name: name, Kind: "ints", Ints: v} }
func String(name string, v string) Attr { return Attr{Name: name, Kind: "string", Str: v} }

// Tensor is an initializer: Float or Int64 data.
type Tensor struct {
	Name  string
	Dims  []int64
	Float []float32
	Int64 []int64
}

// Encode returns the model's protobuf bytes.
func (m Model) Encode() []byte {
	var g buf
	for _, n := range m.Nodes {
		g.msg(1, n.encode())
	}
	g.str(2, "test")
	for _, t := range m.Inits {
		g.msg(5, t.encode())
	}
	for _, v := range m.Inputs {
		g.msg(11, v.encode())
	}
	for _, v := range m.Outputs {
		g.msg(12, v.encode())
	}
	opset := m.Opset
	if opset == 0 {
		opset = 13
	}
	var op buf
	op.str(1, "")
	op.varint(2, uint64(opset))
	var mb buf
	mb.varint(1, 7) // ir_version
	mb.str(2, "onnxtest")
	mb.msg(7, g.b)
	mb.msg(8, op.b)
	return mb.b
}

func (n Node) encode() []byte {
	var b buf
	for _, in := range n.Inputs {
		b.str(1, in)
	}
	for _, out := range n.Outputs {
		b.str(2, out)
	}
	b.str(3, n.Outputs[0])
	b.str(4, n.Op)
	for _, a := range n.Attrs {
		b.msg(5, a.encode())
	}
	return b.b
}

func (a Attr) encode() []byte {
	var b buf
	b.str(1, a.Name)
	switch a.Kind {
	case "float":
		b.fixed32(2, math.Float32bits(a.Float))
		b.varint(20, 1)
	case "int":
		b.varint(3, uint64(a.Int))
		b.varint(20, 2)
	case "string":
		b.str(4, a.Str)
		b.varint(20, 3)
	case "ints":
		for _, v := range a.Ints {
			b.varint(8, uint64(v))
		}
		b.varint(20, 7)
	}
	return b.b
}

func (t Tensor) encode() []byte {
	var b buf
	for _, d := range t.Dims {
		b.varint(1, uint64(d))
	}
	var raw []byte
	if t.Int64 != nil {
		b.varint(2, 7) // INT64
		raw = make([]byte, 8*len(t.Int64))
		for i, v := range t.Int64 {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	} else {
		b.varint(2, 1) // FLOAT
		raw = make([]byte, 4*len(t.Float))
		for i, v := range t.Float {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	b.str(8, t.Name)
	b.bytes(9, raw)
	return b.b
}

func (v Value) encode() []byte {
	var shape buf
	for _, d := range v.Shape {
		var dim buf
		if d < 0 {
			dim.str(2, "N")
		} else {
			dim.varint(1, uint64(d))
		}
		shape.msg(1, dim.b)
	}
	var tt buf
	tt.varint(1, 1) // FLOAT
	tt.msg(2, shape.b)
	var typ buf
	typ.msg(1, tt.b)
	var b buf
	b.str(1, v.Name)
	b.msg(2, typ.b)
	return b.b
}

// buf appends protobuf fields.
type buf struct{ b []byte }

func (b *buf) tag(field, wire int) { b.b = binary.AppendUvarint(b.b, uint64(field<<3|wire)) }

func (b *buf) varint(field int, v uint64) {
	b.tag(field, 0)
	b.b = binary.AppendUvarint(b.b, v)
}

func (b *buf) fixed32(field int, v uint32) {
	b.tag(field, 5)
	b.b = binary.LittleEndian.AppendUint32(b.b, v)
}

func (b *buf) bytes(field int, v []byte) {
	b.tag(field, 2)
	b.b = binary.AppendUvarint(b.b, uint64(len(v)))
	b.b = append(b.b, v...)
}

func (b *buf) str(field int, s string) { b.bytes(field, []byte(s)) }
func (b *buf) msg(field int, m []byte) { b.bytes(field, m) }
