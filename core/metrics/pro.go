package metrics

import (
	"fmt"
	"sort"
)

// Mask is a binary ground-truth mask, true where the defect is.
type Mask struct {
	W, H int
	Pix  []bool
}

// PROCurve returns the per-region overlap against the false-positive
// rate over all thresholds, as MVTec AD defines it: each connected defect
// region (8-connected) counts equally, whatever its size; the FPR is over
// all defect-free pixels of all images.
func PROCurve(maps [][]float32, masks []Mask) ([]Point, error) {
	if len(maps) != len(masks) {
		return nil, fmt.Errorf("metrics: %d maps for %d masks", len(maps), len(masks))
	}
	type px struct {
		score  float32
		region int32 // -1: defect-free pixel
	}
	var all []px
	var regionSize []int
	var neg int
	for i, m := range masks {
		if len(maps[i]) != m.W*m.H || len(m.Pix) != m.W*m.H {
			return nil, fmt.Errorf("metrics: map %d has %d values, mask %dx%d", i, len(maps[i]), m.W, m.H)
		}
		labels, n := Label(m)
		base := int32(len(regionSize))
		regionSize = append(regionSize, make([]int, n)...)
		for p, l := range labels {
			r := int32(-1)
			if l > 0 {
				r = base + int32(l-1)
				regionSize[r]++
			} else {
				neg++
			}
			all = append(all, px{maps[i][p], r})
		}
	}
	if len(regionSize) == 0 || neg == 0 {
		return nil, fmt.Errorf("metrics: PRO needs defect regions (%d) and defect-free pixels (%d)", len(regionSize), neg)
	}
	sort.Slice(all, func(a, b int) bool { return all[a].score > all[b].score })
	curve := []Point{{0, 0}}
	var fp int
	var overlap float64 // sum over regions of covered fraction
	nr := float64(len(regionSize))
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].score == all[i].score {
			if r := all[j].region; r >= 0 {
				overlap += 1 / float64(regionSize[r])
			} else {
				fp++
			}
			j++
		}
		curve = append(curve, Point{float64(fp) / float64(neg), overlap / nr})
		i = j
	}
	return curve, nil
}

// PRO is the area under the PRO curve up to an FPR of limit, divided by
// limit (MVTec AD uses 0.3).
func PRO(maps [][]float32, masks []Mask, limit float64) (float64, error) {
	c, err := PROCurve(maps, masks)
	if err != nil {
		return 0, err
	}
	return Area(c, limit) / limit, nil
}

// Label numbers the 8-connected regions of a mask 1..n (0 is background).
func Label(m Mask) ([]int, int) {
	labels := make([]int, len(m.Pix))
	n := 0
	var stack []int
	for p, on := range m.Pix {
		if !on || labels[p] != 0 {
			continue
		}
		n++
		labels[p] = n
		stack = append(stack[:0], p)
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			y, x := q/m.W, q%m.W
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					yy, xx := y+dy, x+dx
					if yy < 0 || yy >= m.H || xx < 0 || xx >= m.W {
						continue
					}
					r := yy*m.W + xx
					if m.Pix[r] && labels[r] == 0 {
						labels[r] = n
						stack = append(stack, r)
					}
				}
			}
		}
	}
	return labels, n
}
