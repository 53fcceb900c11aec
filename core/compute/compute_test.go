package compute

import (
	"fmt"
	"testing"
)

// TestConcatBlocks joins a 2x1x2 and a 2x2x2 tensor along each axis that
// allows it and checks the result against the values written out by hand.
func TestConcatBlocks(t *testing.T) {
	a := []float32{1, 2, 3, 4}                // 2x1x2
	b := []float32{5, 6, 7, 8, 9, 10, 11, 12} // 2x2x2
	c := []float32{13, 14, 15, 16}            // 2x1x2
	join := func(axis int, data [][]float32, shapes [][]int) ([]int, []float32) {
		out := ConcatShape(axis, shapes)
		got := make([]float32, Size(out))
		ConcatBlocks(axis, shapes, func(i, src, dst, n int) { copy(got[dst:dst+n], data[i][src:src+n]) })
		return out, got
	}
	shape, got := join(1, [][]float32{a, b}, [][]int{{2, 1, 2}, {2, 2, 2}})
	if fmt.Sprint(shape, got) != "[2 3 2] [1 2 5 6 7 8 3 4 9 10 11 12]" {
		t.Errorf("axis 1: %v %v", shape, got)
	}
	shape, got = join(0, [][]float32{a, c}, [][]int{{2, 1, 2}, {2, 1, 2}})
	if fmt.Sprint(shape, got) != "[4 1 2] [1 2 3 4 13 14 15 16]" {
		t.Errorf("axis 0: %v %v", shape, got)
	}
	shape, got = join(2, [][]float32{a, c}, [][]int{{2, 1, 2}, {2, 1, 2}})
	if fmt.Sprint(shape, got) != "[2 1 4] [1 2 13 14 3 4 15 16]" {
		t.Errorf("axis 2: %v %v", shape, got)
	}
}
