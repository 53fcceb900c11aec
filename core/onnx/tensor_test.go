package onnx

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

// tensorProto encodes a TensorProto with its data in field num.
func tensorProto(name string, dtype uint64, num int, data []byte, dims ...uint64) []byte {
	return append(append(append(bytesField(1, packed(dims...)), varintField(2, dtype)...), bytesField(8, []byte(name))...), bytesField(num, data)...)
}

func f32le(xs ...float32) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestDecodeTensor(t *testing.T) {
	f64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-2))
	for name, tc := range map[string]struct {
		b      []byte
		floats []float32
		ints   []int64
	}{
		"raw float":         {tensorProto("x", typeFloat, 9, f32le(1, 2, 3, 4, 5, 6), 2, 3), []float32{1, 2, 3, 4, 5, 6}, nil},
		"packed float_data": {tensorProto("x", typeFloat, 4, f32le(0.5, -1), 2), []float32{0.5, -1}, nil},
		"raw double":        {tensorProto("x", typeDouble, 9, f64, 2), []float32{1.5, -2}, nil},
		"packed int64_data": {tensorProto("s", typeInt64, 7, packed(3, 4, 5), 3), nil, []int64{3, 4, 5}},
	} {
		_, got, err := DecodeTensor(tc.b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !slices.Equal(got.Float, tc.floats) || !slices.Equal(got.Int, tc.ints) {
			t.Errorf("%s: got %v %v, want %v %v", name, got.Float, got.Int, tc.floats, tc.ints)
		}
	}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"short data": {tensorProto("x", typeFloat, 9, f32le(1, 2), 2, 3), "8 bytes of data for shape [2 3]"},
		"bool":       {tensorProto("b", 9, 9, []byte{1, 0}, 2), "data type 9 is not supported"},
		"huge shape": {tensorProto("x", typeFloat, 9, nil, 1<<20, 1<<20), "over the limit"},
		"zero-size":  {tensorProto("x", typeFloat, 9, nil, 0), "zero-size"},
		"truncated":  {[]byte{1<<3 | 2, 50, 1}, "corrupt or truncated"},
		"few values": {tensorProto("x", typeFloat, 4, f32le(1), 3), "1 values for shape [3]"},
	} {
		if _, _, err := DecodeTensor(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

// FuzzDecodeTensor: no input panics or allocates past its declared size.
func FuzzDecodeTensor(f *testing.F) {
	f.Add(tensorProto("x", typeFloat, 9, f32le(1, 2, 3, 4, 5, 6), 2, 3))
	f.Add(tensorProto("s", typeInt64, 7, packed(3, 4, 5), 3))
	f.Add(tensorProto("x", typeFloat, 4, f32le(0.5, -1), 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, tn, err := DecodeTensor(b)
		if err == nil && len(tn.Float)+len(tn.Int) != tn.Len() {
			t.Fatalf("decoded %d values for shape %v", len(tn.Float)+len(tn.Int), tn.Shape)
		}
	})
}
