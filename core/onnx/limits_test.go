package onnx

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// Protobuf encoding, just enough to write hostile models by hand.
func varintField(num int, x uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, uint64(num)<<3), x)
}

func bytesField(num int, parts ...[]byte) []byte {
	var v []byte
	for _, p := range parts {
		v = append(v, p...)
	}
	out := binary.AppendUvarint(nil, uint64(num)<<3|2)
	out = binary.AppendUvarint(out, uint64(len(v)))
	return append(out, v...)
}

func packed(xs ...uint64) []byte {
	var v []byte
	for _, x := range xs {
		v = binary.AppendUvarint(v, x)
	}
	return v
}

// model is a ModelProto holding one graph with the given fields.
func model(graph ...[]byte) []byte { return bytesField(7, graph...) }

func input(name string, dims ...uint64) []byte {
	var ds [][]byte
	for _, d := range dims {
		ds = append(ds, bytesField(1, varintField(1, d)))
	}
	shape := bytesField(2, ds...)
	return bytesField(11, bytesField(1, []byte(name)), bytesField(2, bytesField(1, varintField(1, 1), shape)))
}

func initializer(name string, raw []byte, dims ...uint64) []byte {
	return bytesField(5, bytesField(1, packed(dims...)), varintField(2, 1), bytesField(8, []byte(name)), bytesField(9, raw))
}

// TestHostileModels: a few bytes that declare huge or inconsistent
// tensors are refused before onnx-go allocates anything.
func TestHostileModels(t *testing.T) {
	floats := func(n int) []byte { return make([]byte, 4*n) }
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"huge input":              {model(input("x", 1, 3, 100000, 100000)), `input "x" has shape [1 3 100000 100000]: over the limit`},
		"overflowing input":       {model(input("x", math.MaxInt64/2, 4, 4)), "over the limit"},
		"huge initializer":        {model(initializer("w", floats(4), 1<<20, 1<<20)), `initializer "w" has shape [1048576 1048576]: over the limit`},
		"initializer short":       {model(initializer("w", floats(5), 2, 3)), `initializer "w": 20 bytes of data for shape [2 3]`},
		"zero-size initializer":   {model(initializer("w", nil, 0, 3)), "zero-size"},
		"zero-size input":         {model(input("x", 1, 0, 4, 4)), `input "x" has shape [1 0 4 4]: zero-size`},
		"sequence input":          {model(bytesField(11, bytesField(1, []byte("s")), bytesField(2, bytesField(4, nil)))), `input "s" is not a tensor`},
		"field past the end":      {[]byte{7<<3 | 2, 100, 1, 2}, "corrupt or truncated"},
		"negative-looking length": {append([]byte{7<<3 | 2}, binary.AppendUvarint(nil, math.MaxUint64)...), "corrupt or truncated"},
	} {
		_, err := Decode(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
	// A consistent model passes the check.
	if err := checkSizes(model(input("x", 1, 3, 224, 224), initializer("w", floats(6), 2, 3))); err != nil {
		t.Errorf("a consistent model: %v", err)
	}
}
