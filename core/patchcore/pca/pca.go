// Package pca estimates the principal directions of a set of vectors:
// orthonormal directions that carry most of their spread, from which the
// search and the coreset bound distances cheaply.
package pca

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
)

// Mean returns the mean of the n rows of x (d values each).
func Mean(x []float32, n, d int) []float32 {
	sum := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			sum[j] += float64(v)
		}
	}
	mean := make([]float32, d)
	for j := range sum {
		mean[j] = float32(sum[j] / float64(n))
	}
	return mean
}

// Directions returns m orthonormal directions (m x d, row-major) close to
// the top principal components of the rows of x (n x d) around mean. Any
// orthonormal rows give valid lower bounds; the closer they are to the
// principal components, the tighter the bounds, so this estimates them
// cheaply: the covariance of at most 2048 evenly spaced rows, block power
// iteration on it, then Rayleigh-Ritz on the block. It is deterministic
// for given inputs.
func Directions(x []float32, n, d int, mean []float32, m int, par sgemm.Parallel) ([]float32, error) {
	const sampleRows = 2048
	p := min(m+16, d) // the block, oversampled so the top m converge fast
	s := min(n, sampleRows)
	// Centred sample, transposed: xt is d x s.
	xs := make([]float32, s*d)
	for i := 0; i < s; i++ {
		src := x[(i*n/s)*d:]
		dst := xs[i*d : (i+1)*d]
		for j := range dst {
			dst[j] = src[j] - mean[j]
		}
	}
	xt := make([]float32, d*s)
	for i := 0; i < s; i++ {
		for j := 0; j < d; j++ {
			xt[j*s+i] = xs[i*d+j]
		}
	}
	c32 := make([]float32, d*d)
	sgemm.Pack(xt, d, s).Mul(c32, d, xs, d, d, sgemm.Epilogue{}, par)
	cp := sgemm.Pack(c32, d, d)
	// mul sets z = c q, the product in float32 (the iteration only needs
	// the subspace; orthonormalising stays in float64).
	q32, z32 := make([]float32, d*p), make([]float32, d*p)
	mul := func(z, q []float64) {
		for i, v := range q {
			q32[i] = float32(v)
		}
		cp.Mul(z32, p, q32, p, p, sgemm.Epilogue{}, par)
		for i, v := range z32 {
			z[i] = float64(v)
		}
	}

	// Block power iteration: q (d x p) spans the dominant subspace.
	rng := rand.New(rand.NewPCG(0x5ea7c4, uint64(n)))
	q := make([]float64, d*p)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	orthonormalise(q, d, p)
	z := make([]float64, d*p)
	for it := 0; it < 6; it++ {
		mul(z, q)
		copy(q, z)
		orthonormalise(q, d, p)
	}
	// Rayleigh-Ritz: the eigenvectors of t = q^T c q rotate q onto the
	// best estimates of the principal components it holds.
	mul(z, q)
	t := mat.NewSymDense(p, nil)
	for a := 0; a < p; a++ {
		for b := a; b < p; b++ {
			var sum float64
			for i := 0; i < d; i++ {
				sum += q[i*p+a] * z[i*p+b]
			}
			t.SetSym(a, b, sum)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(t, true) {
		return nil, fmt.Errorf("pca: the covariance's eigen-decomposition did not converge (are the vectors finite?)")
	}
	var v mat.Dense
	eig.VectorsTo(&v) // columns, eigenvalues ascending
	out := make([]float64, d*m)
	for k := 0; k < m; k++ {
		col := p - 1 - k // largest first
		for i := 0; i < d; i++ {
			var sum float64
			for a := 0; a < p; a++ {
				sum += q[i*p+a] * v.At(a, col)
			}
			out[i*m+k] = sum
		}
	}
	orthonormalise(out, d, m)
	rows := make([]float32, m*d)
	for k := 0; k < m; k++ {
		for i := 0; i < d; i++ {
			rows[k*d+i] = float32(out[i*m+k])
		}
	}
	return rows, nil
}

// orthonormalise makes the p columns of the d x p matrix q orthonormal
// (modified Gram-Schmidt, twice for accuracy). A column that vanishes (a
// bank with less spread than p directions) is replaced by the first unit
// vector that is not in the span of the columns before it.
func orthonormalise(q []float64, d, p int) {
	for pass := 0; pass < 2; pass++ {
		for a := 0; a < p; a++ {
			for try := 0; ; try++ {
				if removeSpan(q, d, p, a) > 1e-6 || try > d {
					break
				}
				for i := 0; i < d; i++ {
					q[i*p+a] = 0
				}
				q[((a+try)%d)*p+a] = 1
			}
		}
	}
}

// removeSpan orthogonalises column a against the columns before it,
// normalises it, and returns the norm it had before normalising.
func removeSpan(q []float64, d, p, a int) float64 {
	for b := 0; b < a; b++ {
		var dot float64
		for i := 0; i < d; i++ {
			dot += q[i*p+a] * q[i*p+b]
		}
		for i := 0; i < d; i++ {
			q[i*p+a] -= dot * q[i*p+b]
		}
	}
	var norm float64
	for i := 0; i < d; i++ {
		norm += q[i*p+a] * q[i*p+a]
	}
	norm = math.Sqrt(norm)
	if norm > 1e-6 {
		for i := 0; i < d; i++ {
			q[i*p+a] /= norm
		}
	}
	return norm
}
