// Package metrics computes the MVTec AD evaluation figures: image-level and
// pixel-level AUROC, and the per-region overlap (PRO) integrated up to a
// false-positive rate of 0.3.
package metrics

import (
	"fmt"
	"sort"
)

// Point is one point of a curve.
type Point struct{ X, Y float64 }

// ROC returns the ROC curve of scores against binary labels (true is
// anomalous), one point per distinct threshold from (0,0) to (1,1).
func ROC(scores []float32, labels []bool) ([]Point, error) {
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	var pos, neg int
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return nil, fmt.Errorf("metrics: ROC needs both classes (%d anomalous, %d normal)", pos, neg)
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	curve := []Point{{0, 0}}
	var tp, fp int
	for i := 0; i < len(idx); {
		// All samples sharing a score cross the threshold together.
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if labels[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		curve = append(curve, Point{float64(fp) / float64(neg), float64(tp) / float64(pos)})
		i = j
	}
	return curve, nil
}

// AUROC is the area under the ROC curve (trapezoidal, as scikit-learn's
// roc_auc_score computes it).
func AUROC(scores []float32, labels []bool) (float64, error) {
	c, err := ROC(scores, labels)
	if err != nil {
		return 0, err
	}
	return Area(c, 1), nil
}

// Area integrates a curve of increasing X with the trapezoid rule from 0
// up to limit, interpolating at the limit.
func Area(c []Point, limit float64) float64 {
	var a float64
	for i := 1; i < len(c); i++ {
		x0, x1, y0, y1 := c[i-1].X, c[i].X, c[i-1].Y, c[i].Y
		if x0 >= limit {
			break
		}
		if x1 > limit {
			y1 = y0 + (y1-y0)*(limit-x0)/(x1-x0)
			x1 = limit
		}
		a += (x1 - x0) * (y0 + y1) / 2
	}
	return a
}
