package metrics

import (
	"math"
	"testing"
)

func TestAUROCKnownValues(t *testing.T) {
	for _, tc := range []struct {
		scores []float32
		labels []bool
		want   float64
	}{
		{[]float32{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75}, // scikit-learn's doc example
		{[]float32{1, 2, 3, 4}, []bool{false, false, true, true}, 1},
		{[]float32{4, 3, 2, 1}, []bool{false, false, true, true}, 0},
		{[]float32{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5}, // all tied
		{[]float32{0.5, 0.5, 0.2, 0.9}, []bool{true, false, false, true}, 0.875},
	} {
		got, err := AUROC(tc.scores, tc.labels)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("AUROC(%v, %v) = %g, want %g", tc.scores, tc.labels, got, tc.want)
		}
	}
	if _, err := AUROC([]float32{1, 2}, []bool{true, true}); err == nil {
		t.Error("one class only: no error")
	}
}

func TestAreaWithLimit(t *testing.T) {
	c := []Point{{0, 0}, {0.5, 1}, {1, 1}}
	if a := Area(c, 1); math.Abs(a-0.75) > 1e-12 {
		t.Errorf("area %g, want 0.75", a)
	}
	// Up to 0.3 the curve is y = 2x: area 0.09.
	if a := Area(c, 0.3); math.Abs(a-0.09) > 1e-12 {
		t.Errorf("area to 0.3 %g, want 0.09", a)
	}
}

func TestLabel8Connected(t *testing.T) {
	// Two diagonal pixels touch (8-connectivity); the right block is apart.
	m := Mask{W: 5, H: 3, Pix: []bool{
		true, false, false, true, true,
		false, true, false, false, false,
		false, false, false, false, true,
	}}
	labels, n := Label(m)
	if n != 3 {
		t.Fatalf("%d regions, want 3 (labels %v)", n, labels)
	}
	if labels[0] != labels[6] {
		t.Error("diagonal neighbours got different labels")
	}
}

func TestPROByHand(t *testing.T) {
	// One image, 1x4: a 1-pixel region and a 2-pixel region, one normal
	// pixel. Scores: big region 0.9 and 0.5, small region 0.7, normal 0.6.
	m := Mask{W: 4, H: 1, Pix: []bool{true, true, true, false}}
	m.Pix[1] = false // regions: {0} and {2}, normal {1, 3}
	maps := [][]float32{{0.7, 0.6, 0.9, 0.1}}
	c, err := PROCurve(maps, []Mask{m})
	if err != nil {
		t.Fatal(err)
	}
	// Thresholds: 0.9 -> region {2} covered (overlap 1/2), FPR 0;
	// 0.7 -> both (1), FPR 0; 0.6 -> FPR 0.5; 0.1 -> FPR 1.
	want := []Point{{0, 0}, {0, 0.5}, {0, 1}, {0.5, 1}, {1, 1}}
	if len(c) != len(want) {
		t.Fatalf("curve %v, want %v", c, want)
	}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("curve %v, want %v", c, want)
		}
	}
	pro, _ := PRO(maps, []Mask{m}, 0.3)
	if math.Abs(pro-1) > 1e-12 {
		t.Errorf("PRO %g, want 1", pro)
	}
	// Region sizes count equally: a big region half found scores 0.5.
	big := Mask{W: 3, H: 1, Pix: []bool{true, true, false}}
	pro, _ = PRO([][]float32{{0.9, 0.1, 0.5}}, []Mask{big}, 1)
	// Curve: (0,0) -> 0.9: (0, 0.5) -> 0.5: (1, 0.5) -> 0.1: (1, 1).
	if math.Abs(pro-0.5) > 1e-12 {
		t.Errorf("PRO of a half-found region %g, want 0.5", pro)
	}
}
