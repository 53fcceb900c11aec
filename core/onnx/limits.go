package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxValues bounds any tensor a model declares (1 GiB of float32): onnx-go
// allocates inputs and initializers at their declared shapes, so a 3 KB
// file could ask for gigabytes before anything else is checked.
const maxValues = 1 << 28

var errWire = errors.New("not a valid ONNX model (corrupt or truncated?)")

// field is one protobuf field: its number, wire type, and its value (x
// for varints, v for length-delimited bytes).
type field struct {
	num, wire int
	x         uint64
	v         []byte
}

// walk calls f for each field of a protobuf message.
func walk(b []byte, f func(field) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errWire
		}
		b = b[n:]
		fl := field{num: int(key >> 3), wire: int(key & 7)}
		switch fl.wire {
		case 0:
			fl.x, n = binary.Uvarint(b)
			if n <= 0 {
				return errWire
			}
		case 1:
			if n = 8; len(b) >= n {
				fl.x = binary.LittleEndian.Uint64(b)
			}
		case 5:
			if n = 4; len(b) >= n {
				fl.x = uint64(binary.LittleEndian.Uint32(b))
			}
		case 2:
			l, m := binary.Uvarint(b)
			if m <= 0 || l > uint64(len(b)-m) {
				return errWire
			}
			fl.v, n = b[m:m+int(l)], m+int(l)
		default:
			return errWire
		}
		if n > len(b) {
			return errWire
		}
		if err := f(fl); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// checkSizes walks the fields of the model that declare sizes before
// onnx-go sees them: every graph input's and initializer's shape must be
// positive and at most maxValues values, and an initializer must hold the
// data its shape needs.
func checkSizes(b []byte) error {
	return walk(b, func(f field) error {
		if f.num != 7 || f.wire != 2 { // ModelProto.graph
			return nil
		}
		return walk(f.v, func(f field) error {
			switch {
			case f.num == 5 && f.wire == 2: // GraphProto.initializer
				return checkInitializer(f.v)
			case f.num == 11 && f.wire == 2: // GraphProto.input
				return checkValue(f.v, true)
			case f.num == 12 && f.wire == 2: // GraphProto.output
				return checkValue(f.v, false)
			}
			return nil
		})
	})
}

// elemSize is the bytes per element of an ONNX data type, 0 when unknown
// or variable (strings).
func elemSize(t uint64) int {
	switch t {
	case 2, 3, 9: // uint8, int8, bool
		return 1
	case 4, 5, 10, 16: // uint16, int16, float16, bfloat16
		return 2
	case 1, 6, 12: // float, int32, uint32
		return 4
	case 7, 11, 13: // int64, double, uint64
		return 8
	}
	return 0
}

// product multiplies dimensions, refusing zero-size and negative ones and
// anything over maxValues (checked before each step, so it cannot
// overflow).
func product(what string, dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d <= 0 {
			return 0, fmt.Errorf("%s has shape %v: zero-size and negative dimensions are not supported", what, dims)
		}
		if n > maxValues/d {
			return 0, fmt.Errorf("%s has shape %v: over the limit of %d values", what, dims, maxValues)
		}
		n *= d
	}
	return n, nil
}

// countVarints counts the values of a packed repeated varint field.
func countVarints(v []byte) (int64, error) {
	var n int64
	for len(v) > 0 {
		_, m := binary.Uvarint(v)
		if m <= 0 {
			return 0, errWire
		}
		v = v[m:]
		n++
	}
	return n, nil
}

// checkInitializer checks a TensorProto: its dims (1), data_type (2),
// name (8), and that its data (raw_data 9, or float_data 4, int32_data 5,
// int64_data 7, double_data 10, uint64_data 11) has the shape's count.
func checkInitializer(v []byte) error {
	var dims []int64
	var dtype uint64
	var name string
	var raw []byte
	hasRaw, external := false, false
	var values int64 // elements in the typed fields
	err := walk(v, func(f field) error {
		switch f.num {
		case 1:
			if f.wire == 0 {
				dims = append(dims, int64(f.x))
				return nil
			}
			return walk(packedAsFields(f.v), func(g field) error {
				dims = append(dims, int64(g.x))
				return nil
			})
		case 2:
			dtype = f.x
		case 8:
			name = string(f.v)
		case 9:
			raw, hasRaw = f.v, true
		case 4, 5, 7, 10, 11:
			switch {
			case f.wire != 2:
				values++
			case f.num == 4:
				values += int64(len(f.v) / 4)
			case f.num == 10:
				values += int64(len(f.v) / 8)
			default:
				n, err := countVarints(f.v)
				if err != nil {
					return err
				}
				values += n
			}
		case 13, 14:
			external = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	what := fmt.Sprintf("initializer %q", name)
	n, err := product(what, dims)
	if err != nil {
		return err
	}
	switch {
	case external:
		return fmt.Errorf("%s keeps its data in an external file, which is not supported", what)
	case hasRaw:
		if size := elemSize(dtype); size > 0 && int64(len(raw)) != n*int64(size) {
			return fmt.Errorf("%s: %d bytes of data for shape %v of %d-byte values", what, len(raw), dims, size)
		}
	case values != n:
		return fmt.Errorf("%s: %d values for shape %v", what, values, dims)
	}
	return nil
}

// packedAsFields re-encodes a packed varint list as field-1 varints, so
// that walk can read it.
func packedAsFields(v []byte) []byte {
	var out []byte
	for len(v) > 0 {
		x, m := binary.Uvarint(v)
		if m <= 0 {
			return append(out, 0xff) // walk reports it
		}
		out = append(out, 1<<3)
		out = binary.AppendUvarint(out, x)
		v = v[m:]
	}
	return out
}

// checkValue checks a graph input's or output's type
// (ValueInfoProto.type): it must be a tensor, and an input's declared
// shape (tensor_type.shape.dim[].dim_value) must be positive and bounded;
// symbolic dimensions (dim_param) pass.
func checkValue(v []byte, input bool) error {
	var name string
	var dims []int64
	tensor := false
	// sub descends into field num of a message.
	sub := func(num int, next func(field) error) func(field) error {
		return func(f field) error {
			if f.num != num || f.wire != 2 {
				return nil
			}
			return walk(f.v, next)
		}
	}
	dim := func(f field) error {
		if f.num == 1 && f.wire == 0 {
			dims = append(dims, int64(f.x))
		}
		return nil
	}
	shape := sub(1, dim) // shape.dim
	typ := func(f field) error {
		if f.num == 1 && f.wire == 2 { // TypeProto.tensor_type
			tensor = true
			return walk(f.v, sub(2, shape))
		}
		return nil
	}
	err := walk(v, func(f field) error {
		switch {
		case f.num == 1 && f.wire == 2:
			name = string(f.v)
		case f.num == 2 && f.wire == 2:
			return walk(f.v, typ)
		}
		return nil
	})
	if err != nil {
		return err
	}
	what := fmt.Sprintf("output %q", name)
	if input {
		what = fmt.Sprintf("input %q", name)
	}
	if !tensor {
		return fmt.Errorf("%s is not a tensor (sequence, map and optional values are not supported)", what)
	}
	if !input {
		return nil
	}
	_, err = product(what, dims)
	return err
}

// nodeInputs reads each node's inputs (NodeProto.input, field 1) by its
// first output (field 2), with trailing omitted inputs ("") dropped.
func nodeInputs(b []byte) (map[string][]string, error) {
	inputs := map[string][]string{}
	err := walk(b, func(f field) error {
		if f.num != 7 || f.wire != 2 { // ModelProto.graph
			return nil
		}
		return walk(f.v, func(f field) error {
			if f.num != 1 || f.wire != 2 { // GraphProto.node
				return nil
			}
			var in, out []string
			err := walk(f.v, func(f field) error {
				switch {
				case f.num == 1 && f.wire == 2:
					in = append(in, string(f.v))
				case f.num == 2 && f.wire == 2:
					out = append(out, string(f.v))
				}
				return nil
			})
			for len(in) > 0 && in[len(in)-1] == "" {
				in = in[:len(in)-1]
			}
			if len(out) > 0 {
				inputs[out[0]] = in
			}
			return err
		})
	})
	return inputs, err
}

// Operators lists the operator types (NodeProto.op_type, field 4) a model
// uses, in file order with repeats, read from the bytes without decoding
// them, so a caller can tell an unsupported model from a corrupt one.
func Operators(b []byte) ([]string, error) {
	var ops []string
	err := walk(b, func(f field) error {
		if f.num != 7 || f.wire != 2 {
			return nil
		}
		return walk(f.v, func(f field) error {
			if f.num != 1 || f.wire != 2 {
				return nil
			}
			return walk(f.v, func(f field) error {
				if f.num == 4 && f.wire == 2 {
					ops = append(ops, string(f.v))
				}
				return nil
			})
		})
	})
	return ops, err
}
