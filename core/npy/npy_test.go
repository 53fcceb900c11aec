package npy

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{3}, {2, 3}, {1, 2, 2, 1}, {}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i) - 1.5
		}
		var buf bytes.Buffer
		if err := Write(&buf, data, shape); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-4*n)%64 != 0 {
			t.Errorf("shape %v: header not padded to 64 bytes (total %d)", shape, buf.Len())
		}
		got, gotShape, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, data) || !slices.Equal(gotShape, shape) && len(shape) > 0 {
			t.Errorf("round trip of %v: got %v %v", shape, gotShape, got)
		}
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.npy")
	if err := WriteFile(p, []float32{1, 2}, []int{2}); err != nil {
		t.Fatal(err)
	}
	d, s, err := ReadFile(p)
	if err != nil || !slices.Equal(d, []float32{1, 2}) || !slices.Equal(s, []int{2}) {
		t.Fatalf("got %v %v %v", d, s, err)
	}
}

func TestBadInput(t *testing.T) {
	var good bytes.Buffer
	Write(&good, []float32{1, 2, 3, 4}, []int{2, 2})
	f64 := strings.Replace(good.String(), "<f4", "<f8", 1)
	cases := map[string]string{
		"empty":     "",
		"magic":     "NOTNUMPY" + good.String()[8:],
		"truncated": good.String()[:good.Len()-3],
		"float64":   f64,
	}
	for name, in := range cases {
		if _, _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A header that declares more than the file holds, or more than any
	// array may be, fails without allocating what it declares.
	header := func(shape string) string {
		h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape)
		h += strings.Repeat(" ", 63-len(h)%64) + "\n"
		return "\x93NUMPY\x01\x00" + string([]byte{byte(len(h)), byte(len(h) >> 8)}) + h
	}
	for shape, want := range map[string]string{
		"(1000000000,)":            "truncated",
		"(4294967296, 4294967296)": "over",
		"(-4, 2)":                  "",
	} {
		_, _, err := Read(strings.NewReader(header(shape) + "abcd"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shape %s: error %v, want it to mention %q", shape, err, want)
		}
	}
	if err := Write(&bytes.Buffer{}, []float32{1}, []int{2}); err == nil {
		t.Error("Write with a short slice: no error")
	}
}
