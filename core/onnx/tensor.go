package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ONNX TensorProto data types this package reads.
const (
	typeFloat  = 1
	typeInt32  = 6
	typeInt64  = 7
	typeDouble = 11
)

// DecodeTensor decodes a serialized TensorProto, the format of the ONNX
// project's test data (input_0.pb, output_0.pb). Float and double data
// become Float, int32 and int64 become Int. Its size is checked against
// its bytes, as for a model's initializers, before anything is allocated.
func DecodeTensor(b []byte) (name string, t *Tensor, err error) {
	if err := checkInitializer(b); err != nil {
		return "", nil, fmt.Errorf("tensor: %w", err)
	}
	var dtype uint64
	var raw []byte
	var dims []int
	var floats []float32
	var ints []int64
	err = walk(b, func(f field) error {
		// each calls add for a repeated numeric field, packed or not.
		each := func(fixed int, add func(uint64)) error {
			switch {
			case f.wire == 0 || f.wire == 1 || f.wire == 5:
				add(f.x)
				return nil
			case fixed == 4:
				for v := f.v; len(v) >= 4; v = v[4:] {
					add(uint64(binary.LittleEndian.Uint32(v)))
				}
				return nil
			case fixed == 8:
				for v := f.v; len(v) >= 8; v = v[8:] {
					add(binary.LittleEndian.Uint64(v))
				}
				return nil
			}
			return walk(packedAsFields(f.v), func(g field) error { add(g.x); return nil })
		}
		switch f.num {
		case 1:
			return each(0, func(x uint64) { dims = append(dims, int(x)) })
		case 2:
			dtype = f.x
		case 8:
			name = string(f.v)
		case 9:
			raw = f.v
		case 4: // float_data
			return each(4, func(x uint64) { floats = append(floats, math.Float32frombits(uint32(x))) })
		case 10: // double_data
			return each(8, func(x uint64) { floats = append(floats, float32(math.Float64frombits(x))) })
		case 5: // int32_data
			return each(0, func(x uint64) { ints = append(ints, int64(int32(x))) })
		case 7: // int64_data
			return each(0, func(x uint64) { ints = append(ints, int64(x)) })
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("tensor: %w", err)
	}
	t = &Tensor{Shape: dims}
	switch dtype {
	case typeFloat, typeDouble:
		t.Float = floats
		if raw != nil {
			t.Float = make([]float32, 0, t.Len())
			for v := raw; len(v) > 0; {
				if dtype == typeFloat {
					t.Float = append(t.Float, math.Float32frombits(binary.LittleEndian.Uint32(v)))
					v = v[4:]
				} else {
					t.Float = append(t.Float, float32(math.Float64frombits(binary.LittleEndian.Uint64(v))))
					v = v[8:]
				}
			}
		}
	case typeInt32, typeInt64:
		t.Int = ints
		if raw != nil {
			t.Int = make([]int64, 0, t.Len())
			for v := raw; len(v) > 0; {
				if dtype == typeInt32 {
					t.Int = append(t.Int, int64(int32(binary.LittleEndian.Uint32(v))))
					v = v[4:]
				} else {
					t.Int = append(t.Int, int64(binary.LittleEndian.Uint64(v)))
					v = v[8:]
				}
			}
		}
	default:
		return "", nil, fmt.Errorf("tensor %q: data type %d is not supported (float, double, int32 and int64 are)", name, dtype)
	}
	if n := len(t.Float) + len(t.Int); n != t.Len() {
		return "", nil, fmt.Errorf("tensor %q: %d values for shape %v", name, n, dims)
	}
	return name, t, nil
}
