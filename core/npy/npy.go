// Package npy reads and writes float32 arrays in NumPy's .npy format
// (version 1.0-3.0, little-endian, C order), so that features and inputs can
// be compared with NumPy or ONNX Runtime.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var magic = []byte("\x93NUMPY")

// Read decodes a float32 array.
// maxValues bounds an array's declared size (4 GiB of float32).
const maxValues = 1 << 30

func Read(r io.Reader) (data []float32, shape []int, err error) {
	head := make([]byte, 8)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nil, fmt.Errorf("npy: reading header: %w", err)
	}
	if !bytes.Equal(head[:6], magic) {
		return nil, nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen int
	switch head[6] {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, nil, fmt.Errorf("npy: reading header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b))
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, nil, fmt.Errorf("npy: reading header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b))
	default:
		return nil, nil, fmt.Errorf("npy: unsupported format version %d", head[6])
	}
	if hlen > 1<<20 {
		return nil, nil, fmt.Errorf("npy: header of %d bytes is implausible", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, fmt.Errorf("npy: reading header: %w", err)
	}
	shape, err = parseHeader(string(hdr))
	if err != nil {
		return nil, nil, err
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d != 0 && n > maxValues/d) {
			return nil, nil, fmt.Errorf("npy: shape %v is over %d values", shape, maxValues)
		}
		n *= d
	}
	// Read what is there, growing as it comes, rather than allocating what
	// the header declares: a short file fails before its shape's worth of
	// memory is taken.
	raw, err := io.ReadAll(io.LimitReader(r, 4*int64(n)))
	if err != nil {
		return nil, nil, fmt.Errorf("npy: reading data: %w", err)
	}
	if len(raw) != 4*n {
		return nil, nil, fmt.Errorf("npy: data for shape %v is truncated: %d of %d bytes", shape, len(raw), 4*n)
	}
	data = make([]float32, n)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return data, shape, nil
}

var (
	descrRe = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	orderRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

func parseHeader(h string) ([]int, error) {
	d := descrRe.FindStringSubmatch(h)
	if d == nil || (d[1] != "<f4" && d[1] != "float32") {
		return nil, fmt.Errorf("npy: element type %q is not supported, want little-endian float32 ('<f4')", strings.TrimSpace(h))
	}
	if o := orderRe.FindStringSubmatch(h); o == nil || o[1] != "False" {
		return nil, errors.New("npy: Fortran-ordered arrays are not supported")
	}
	s := shapeRe.FindStringSubmatch(h)
	if s == nil {
		return nil, errors.New("npy: header has no shape")
	}
	var shape []int
	for _, f := range strings.Split(s[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("npy: bad dimension %q in shape", f)
		}
		shape = append(shape, v)
	}
	return shape, nil
}

// ReadFile decodes the float32 array in a .npy file.
func ReadFile(path string) ([]float32, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, shape, err := Read(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, shape, nil
}

// Write encodes a float32 array in format version 1.0.
func Write(w io.Writer, data []float32, shape []int) error {
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = strconv.Itoa(d)
	}
	if n != len(data) {
		return fmt.Errorf("npy: %d values do not fill shape %v", len(data), shape)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// Pad so the data starts on a 64-byte boundary, header ending in '\n'.
	total := len(magic) + 2 + 2 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	buf := bytes.NewBuffer(make([]byte, 0, 10+len(h)+4*n))
	buf.Write(magic)
	buf.Write([]byte{1, 0})
	binary.Write(buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	b := make([]byte, 4)
	for _, v := range data {
		binary.LittleEndian.PutUint32(b, math.Float32bits(v))
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteFile writes a float32 array to path, replacing the file atomically.
func WriteFile(path string, data []float32, shape []int) error {
	tmp, err := os.CreateTemp(dirOf(path), ".npy-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, data, shape); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}
