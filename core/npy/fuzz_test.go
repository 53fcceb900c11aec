package npy

import (
	"bytes"
	"testing"
)

// FuzzRead: no bytes make Read panic, and what it reads writes back.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	Write(&good, []float32{1, 2, 3, 4, 5, 6}, []int{2, 3})
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		v, shape, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, v, shape); err != nil {
			t.Fatalf("read %d values of shape %v but cannot write them: %v", len(v), shape, err)
		}
	})
}
