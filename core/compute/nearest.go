package compute

import "math"

// Backends compute nearest-neighbour distances as |q|^2 - 2 q.b + |b|^2:
// the helpers below are the parts that do not depend on the hardware.

// QueryColumns returns the nq x d queries transposed (d x nq, the right
// operand of the bank x queries product) and each query's |q|^2.
func QueryColumns(queries []float32, nq, d int) (qt, norms []float32) {
	qt = make([]float32, d*nq)
	norms = make([]float32, nq)
	for q := 0; q < nq; q++ {
		var s float64
		for j, v := range queries[q*d : (q+1)*d] {
			qt[j*nq+q] = v
			s += float64(v) * float64(v)
		}
		norms[q] = float32(s)
	}
	return qt, norms
}

// InsertSmallest puts v into the ascending list s when it is smaller than
// s's last value, dropping that value.
func InsertSmallest(s []float32, v float32) {
	n := len(s)
	if v >= s[n-1] {
		return
	}
	i := n - 1
	for i > 0 && s[i-1] > v {
		s[i] = s[i-1]
		i--
	}
	s[i] = v
}

// MergeNearest merges per-chunk candidates, candidates(c) being chunk c's
// nq x k smallest |b|^2 - 2 q.b, into the k smallest squared distances per
// query (adding |q|^2), ascending, into out (nq*k values).
func MergeNearest(out []float32, chunks int, candidates func(c int) []float32, qnorms []float32, k int) {
	for q := range qnorms {
		dst := out[q*k : (q+1)*k]
		for i := range dst {
			dst[i] = float32(math.Inf(1))
		}
		for c := 0; c < chunks; c++ {
			for _, v := range candidates(c)[q*k : (q+1)*k] {
				InsertSmallest(dst, v)
			}
		}
		for i := range dst {
			// Rounding can push an exact match slightly below zero.
			dst[i] = max(dst[i]+qnorms[q], 0)
		}
	}
}
