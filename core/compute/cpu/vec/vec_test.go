package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Lengths around the 8-wide vector body exercise both the body and the tail.
var lengths = []int{0, 1, 7, 8, 9, 16, 31, 100}

func seq(n int, k float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i%13)*k - 3
	}
	return s
}

func TestAgainstGo(t *testing.T) {
	for _, n := range lengths {
		x, y := seq(n, 0.5), seq(n, -0.25)
		got, want := append([]float32(nil), y...), append([]float32(nil), y...)
		Axpy(1.5, x, got)
		axpyGo(1.5, x, want)
		same(t, "Axpy", n, got, want)

		got, want = make([]float32, n), make([]float32, n)
		ScaleShiftClamp(got, x, 2, -1, 0, 6)
		scaleShiftClampGo(want, x, 2, -1, 0, 6)
		same(t, "ScaleShiftClamp", n, got, want)
		for i, v := range got {
			if v < 0 || v > 6 {
				t.Fatalf("ScaleShiftClamp n=%d: got[%d]=%g outside [0,6]", n, i, v)
			}
		}
		inf := float32(math.Inf(1))
		ScaleShiftClamp(got, x, 1, 0, -inf, inf)
		same(t, "ScaleShiftClamp identity", n, got, x)

		Add(got, x, y)
		addGo(want, x, y)
		same(t, "Add", n, got, want)
	}
}

func same(t *testing.T, name string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("%s n=%d: [%d] = %g, want %g", name, n, i, got[i], want[i])
		}
	}
}

func TestDeinterleaveAndRows(t *testing.T) {
	for _, n := range append(lengths, 33, 64) {
		src := seq(n, 1.25)
		even, odd := make([]float32, (n+1)/2), make([]float32, n/2)
		Deinterleave(even, odd, src)
		for i, v := range src {
			got := odd
			if i%2 == 0 {
				got = even
			}
			if got[i/2] != v {
				t.Fatalf("n=%d: element %d lost", n, i)
			}
		}
	}
	src := seq(7*20, 0.5)
	got, want := make([]float32, 7*11), make([]float32, 7*11)
	ScaleShiftClampRows(got, 11, src, 20, 7, 9, 2, 1, -1, 3)
	scaleShiftClampRowsGo(want, 11, src, 20, 7, 9, 2, 1, -1, 3)
	same(t, "ScaleShiftClampRows", 7*11, got, want)
	if got[9] != 0 || got[10] != 0 {
		t.Errorf("ScaleShiftClampRows wrote past cols: %v", got[9:11])
	}
}

func TestSqDist(t *testing.T) {
	for _, n := range append(lengths, 15, 17, 128, 129) {
		a, b := seq(n, 0.3), seq(n, -0.7)
		got, want := SqDist(a, b), sqDistGo(a, b)
		if d := got - want; d > 1e-3*(1+want) || d < -1e-3*(1+want) {
			t.Errorf("n=%d: %g, want %g", n, got, want)
		}
	}
}

// TestSqDistBlocks checks the blocked distances against SqDist on the
// gathered rows (within rounding: the sums run in another order), on
// every kernel this build has (SqDistBlocksBelow's, and the plain one
// its fallback uses).
func TestSqDistBlocks(t *testing.T) {
	const nb = 5
	blocks := seq(nb*Block*Block, 0.37)
	q := seq(Block, -1.3)
	got, masks := make([]float32, nb*Block), make([]uint16, nb)
	SqDistBlocksBelow(blocks, q, make([]float32, nb*Block), got, masks, 1)
	want := make([]float32, nb*Block)
	sqDistBlocksGo(blocks, q, want)
	row := make([]float32, Block)
	for b := 0; b < nb; b++ {
		for m := 0; m < Block; m++ {
			for j := range row {
				row[j] = blocks[b*Block*Block+j*Block+m]
			}
			w := SqDist(row, q)
			for _, g := range []float32{got[b*Block+m], want[b*Block+m]} {
				if d := g - w; d > 1e-5*w || d < -1e-5*w {
					t.Fatalf("block %d row %d: %g, SqDist %g", b, m, g, w)
				}
			}
		}
	}
}

// TestSqDistBlocksBelow: the masks are exactly the comparisons of the
// bounds it returns, on every kernel, thresholds on both sides.
func TestSqDistBlocksBelow(t *testing.T) {
	const nb = 3
	blocks, q := seq(nb*Block*Block, 0.29), seq(Block, 0.6)
	ref := make([]float32, nb*Block)
	sqDistBlocks(blocks, q, ref)
	thr := make([]float32, nb*Block)
	for i := range thr {
		thr[i] = ref[i] * (0.5 + float32(i%3)*0.5) // below, at, above
	}
	out, masks := make([]float32, nb*Block), make([]uint16, nb)
	SqDistBlocksBelow(blocks, q, thr, out, masks, 1-1e-4)
	for i := range out {
		if d := out[i] - ref[i]; d > 1e-6*ref[i] || d < -1e-6*ref[i] {
			t.Fatalf("bound %d: %g, the plain kernel %g", i, out[i], ref[i])
		}
		want := out[i]*(1-1e-4) < thr[i]
		if got := masks[i/Block]>>(i%Block)&1 == 1; got != want {
			t.Fatalf("row %d: mask %v, want %v (bound %g, threshold %g)", i, got, want, out[i], thr[i])
		}
	}
}

// TestTaps9Rows: the one-pass rows give exactly the Go loop's rows (nine
// Axpy calls on each row, then ScaleShiftClamp), and the nine Axpy calls
// over the padded width followed by ScaleShiftClampRows to rounding
// (relaxed SIMD fuses where each vector falls), on widths around 16 and
// with the clamp biting.
func TestTaps9Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = r.Float32()*2 - 1
		}
		return s
	}
	w := random(9)
	clamped := 0
	for _, cols := range []int{1, 7, 14, 16, 17, 28, 56, 112} {
		pw := cols + 2
		rows := 5
		offs := [9]int{0, 1, 2, pw, pw + 1, pw + 2, 2 * pw, 2*pw + 1, 2*pw + 2}
		base := random((rows + 3) * pw)
		acc := make([]float32, rows*pw)
		taps9Go(acc, base, &offs, w)
		want := make([]float32, rows*cols)
		ScaleShiftClampRows(want, cols, acc, pw, rows, cols, 1, 0.25, -0.5, 0.6)
		got, loop := make([]float32, rows*cols), make([]float32, rows*cols)
		Taps9Rows(got, cols, base, pw, rows, cols, &offs, w, 0.25, -0.5, 0.6)
		taps9RowsGo(loop, cols, base, pw, rows, cols, &offs, w, 0.25, -0.5, 0.6)
		same(t, "Taps9Rows", cols, got, want)
		for i := range want {
			if want[i] == -0.5 || want[i] == 0.6 {
				clamped++
			}
			if got[i] != loop[i] {
				t.Fatalf("cols=%d: [%d] = %g, the Go loop gives %g", cols, i, got[i], loop[i])
			}
		}
	}
	if clamped == 0 {
		t.Fatal("the clamp never bit: the test data do not test it")
	}
}

// TestCopyRows copies blocks of widths around 16 and leaves the gaps
// between the rows alone.
func TestCopyRows(t *testing.T) {
	for _, cols := range []int{1, 7, 14, 16, 17, 33, 112} {
		rows, ds, ss := 4, cols+3, cols+5
		src := seq(rows*ss, 0.7)
		got := make([]float32, rows*ds)
		for i := range got {
			got[i] = -1
		}
		CopyRows(got, ds, src, ss, rows, cols)
		for r := 0; r < rows; r++ {
			for x := 0; x < ds; x++ {
				want := float32(-1)
				if x < cols {
					want = src[r*ss+x]
				}
				if got[r*ds+x] != want {
					t.Fatalf("cols=%d: row %d [%d] = %g, want %g", cols, r, x, got[r*ds+x], want)
				}
			}
		}
	}
}

// TestGather16 gathers rows at scattered offsets, the first and last
// values of src included, and refuses an offset past its end.
func TestGather16(t *testing.T) {
	src := seq(100, 0.3)
	offs := []int{0, 84 - 5, 17, 3, 17}
	const at = 5
	got := make([]float32, 16*len(offs))
	Gather16(got, src, offs, at)
	for i, o := range offs {
		for x := 0; x < 16; x++ {
			if got[16*i+x] != src[o+at+x] {
				t.Fatalf("row %d [%d] = %g, want %g", i, x, got[16*i+x], src[o+at+x])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an offset past src's end did not panic")
		}
	}()
	Gather16(got, src, []int{85}, 0)
}

// TestBelow finds the indices under a limit as the Go loop does, with
// NaNs, ties and every length around the vector steps.
func TestBelow(t *testing.T) {
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 100, 1000} {
		x := seq(n, 0.37)
		for i := 0; i < n; i += 7 {
			x[i] = nan
		}
		for _, limit := range []float32{-10, -2.26, 0, 1.5, 10} {
			// dst is exactly len(x) long, with guards after it: the
			// vector loop's whole stores must stay inside it.
			buf, want := make([]int32, n+16), make([]int32, n)
			for i := n; i < len(buf); i++ {
				buf[i] = -7
			}
			got := buf[:n:n]
			g := Below(got, x, limit)
			w := belowGo(want, x, limit, 0)
			if g != w || !slices.Equal(got[:g], want[:w]) {
				t.Fatalf("n=%d limit=%g: %v, want %v", n, limit, got[:g], want[:w])
			}
			for i := n; i < len(buf); i++ {
				if buf[i] != -7 {
					t.Fatalf("n=%d limit=%g: Below wrote past dst, at %d", n, limit, i)
				}
			}
		}
	}
}

// TestMax checks the SIMD max against the Go loop bit for bit, NaNs on
// either side and zeros of both signs included.
func TestMax(t *testing.T) {
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	for _, n := range append(lengths, 33, 64) {
		a, b := seq(n, 1.25), seq(n, -0.75)
		for i := range a {
			switch i % 7 {
			case 1:
				a[i] = nan
			case 3:
				b[i] = nan
			case 4:
				a[i], b[i] = negZero, 0
			case 5:
				a[i], b[i] = 0, negZero
			}
		}
		got, want := make([]float32, n), make([]float32, n)
		Max(got, a, b)
		maxGo(want, a, b)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("Max n=%d: [%d] = %g, want %g (a %g, b %g)", n, i, got[i], want[i], a[i], b[i])
			}
		}
	}
}
