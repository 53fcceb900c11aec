package patchcore

import (
	"fmt"
	"github.com/tessera/tessera/core/internal/panics"
	"github.com/tessera/tessera/core/internal/parallel"
	"image"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/search"
	"github.com/tessera/tessera/core/patchcore/segment"
)

// Detector scores images against a memory bank.
type Detector struct {
	x      *Extractor
	bank   *bank.Bank
	search Search
	batch  int // images per backbone pass in Predict
	// pruned is the exact pruned search's index (host memory), made on
	// first use; brute is the bank laid out on the device for brute
	// force, for device generation bruteGen.
	pruned   *search.Index
	brute    compute.Index
	bruteGen int
	timings  Timings
	stats    search.Stats
}

// Result is one image's verdict.
type Result struct {
	// Score is the image's anomaly score: the largest patch score, a
	// squared Euclidean distance as in the reference (faiss IndexFlatL2).
	Score       float64   `json:"score"`
	Threshold   float64   `json:"threshold"`
	IsAnomalous bool      `json:"is_anomalous"`
	GridH       int       `json:"grid_h"`
	GridW       int       `json:"grid_w"`
	PatchScores []float32 `json:"-"`
	// Map is the anomaly map (MapH x MapW): at the prepared image's size
	// under imageprep.FitCrop, at the original image's under the
	// preparations that keep the whole image (imageprep.Config.Canvas is
	// the image under it).
	MapH int       `json:"map_h"`
	MapW int       `json:"map_w"`
	Map  []float32 `json:"-"`
}

// NewDetector checks that the bank was made with this extractor's model,
// layers and image preparation, and prepares it for search.
func NewDetector(x *Extractor, b *bank.Bank) (*Detector, error) {
	if b.ModelSHA256 != x.ModelSHA256 {
		return nil, fmt.Errorf("patchcore: the bank was made with model %s (sha256 %.12s), not %s (sha256 %.12s)",
			b.ModelName, b.ModelSHA256, x.ModelName, x.ModelSHA256)
	}
	if got := x.Exec.Model().Layers(); fmt.Sprint(got) != fmt.Sprint(b.Layers) {
		return nil, fmt.Errorf("patchcore: the bank uses layers %v, the model is set to extract %v", b.Layers, got)
	}
	if x.Prep != b.Prep {
		return nil, fmt.Errorf("patchcore: the bank prepares images as %+v, the extractor as %+v", b.Prep, x.Prep)
	}
	if b.N == 0 || b.D != b.Embed.TargetDim {
		return nil, fmt.Errorf("patchcore: bank holds %d vectors of %d values (embedding size %d)", b.N, b.D, b.Embed.TargetDim)
	}
	return &Detector{x: x, bank: b, search: SearchAuto, batch: Default().Batch}, nil
}

// SetBatch sets how many images Predict runs through the backbone at once.
func (d *Detector) SetBatch(n int) error {
	if n < 1 {
		return fmt.Errorf("patchcore: batch of %d images, want at least 1", n)
	}
	d.batch = n
	return nil
}

// SetSearch chooses how patches find their nearest bank vectors; the
// name is read as ParseSearch reads it.
func (d *Detector) SetSearch(s Search) error {
	m, err := ParseSearch(string(s))
	if err != nil {
		return err
	}
	d.search = m
	return nil
}

// SearchStats returns the pruned search's work so far: exact distances
// computed, against brute force's queries x bank size.
func (d *Detector) SearchStats() search.Stats { return d.stats }

// Bank returns the detector's bank.
func (d *Detector) Bank() *bank.Bank { return d.bank }

// Timings returns the time spent so far, per stage.
func (d *Detector) Timings() Timings { return d.timings }

// Predict scores images, one anomaly map each.
func (d *Detector) Predict(imgs []image.Image) (_ []*Result, err error) {
	defer func() { panics.Error(recover(), "patchcore: predict", &err) }()
	var out []*Result
	b := d.bank
	batch := d.batch
	if b.Prep.Fit == imageprep.FitTile {
		for i, img := range imgs {
			r, err := d.predictTiled(img)
			if err != nil {
				return nil, fmt.Errorf("patchcore: image %d: %w", i+1, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	for i := 0; i < len(imgs); i += batch {
		// Images are prepared side by side: resizing is one core's work.
		chunk := imgs[i:min(i+batch, len(imgs))]
		prepared := make([][]float32, len(chunk))
		errs := make([]error, len(chunk))
		parallel.For(runtime.GOMAXPROCS(0), len(chunk), 1, func(_, j int) { prepared[j], errs[j] = b.Prep.Tensor(chunk[j]) })
		for j, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("patchcore: image %d: %w", i+j+1, err)
			}
		}
		ps, h, w, err := d.x.patches(prepared, b.Embed, &d.timings)
		if err != nil {
			return nil, err
		}
		if h != b.GridH || w != b.GridW {
			return nil, fmt.Errorf("patchcore: patch grid %dx%d, the bank's is %dx%d", h, w, b.GridH, b.GridW)
		}
		rs, err := d.score(ps, true)
		if err != nil {
			return nil, err
		}
		if b.Prep.Fit == imageprep.FitPad || b.Prep.Fit == imageprep.FitStretch {
			// A whole image's map goes back onto its own pixels.
			parallel.For(runtime.GOMAXPROCS(0), len(rs), 1, func(_, j int) {
				r := rs[j]
				r.Map, r.MapW, r.MapH = segment.ToOriginal(b.Prep, r.Map, r.MapW, r.MapH, chunk[j].Bounds())
			})
		}
		out = append(out, rs...)
	}
	return out, nil
}

// predictTiled scores one image tile by tile, batch tiles a pass, and
// stitches the tiles' maps onto the image's pixels, where tiles overlap
// the larger value: the image's score is its largest tile's, its patch
// scores all tiles' in turn.
func (d *Detector) predictTiled(img image.Image) (*Result, error) {
	return d.ScoreTiles(img, func(int) *Detector { return d })
}

// ScoreTiles is predictTiled with each tile scored by the detector bank
// (tile) gives, tiles numbered as imageprep.Config.Tiles lists them: for
// one bank per tile position, as anomalib's tiled ensemble has (tessera
// eval --tile-banks position measures it against the one bank). The
// backbone runs on d's extractor; the threshold is bank(0)'s.
func (d *Detector) ScoreTiles(img image.Image, bank func(tile int) *Detector) (_ *Result, err error) {
	defer func() { panics.Error(recover(), "patchcore: predict", &err) }()
	b := d.bank
	if b.Prep.Fit != imageprep.FitTile {
		return nil, fmt.Errorf("patchcore: the bank's images are not tiled (fit %q)", b.Prep.Fit)
	}
	tensors, tiles, err := b.Prep.Tensors(img)
	if err != nil {
		return nil, err
	}
	size := img.Bounds().Size()
	r := &Result{Threshold: b.Threshold, GridH: b.GridH, GridW: b.GridW, MapW: size.X, MapH: size.Y, Map: make([]float32, size.X*size.Y)}
	for i := 0; i < len(tensors); i += d.batch {
		ps, h, w, err := d.x.patches(tensors[i:min(i+d.batch, len(tensors))], b.Embed, &d.timings)
		if err != nil {
			return nil, err
		}
		if h != b.GridH || w != b.GridW {
			return nil, fmt.Errorf("patch grid %dx%d, the bank's is %dx%d", h, w, b.GridH, b.GridW)
		}
		// One search for the batch when one bank scores all its tiles.
		scorers := make([]*Detector, len(ps))
		same := true
		for j := range ps {
			if scorers[j] = bank(i + j); scorers[j] == nil {
				return nil, fmt.Errorf("patchcore: no bank for tile %d", i+j)
			}
			same = same && scorers[j] == scorers[0]
		}
		var rs []*Result
		if same {
			if rs, err = scorers[0].score(ps, true); err != nil {
				return nil, err
			}
		} else {
			for j, p := range ps {
				one, err := scorers[j].score([][]float32{p}, true)
				if err != nil {
					return nil, err
				}
				rs = append(rs, one[0])
			}
		}
		for j, tr := range rs {
			t := tiles[i+j]
			r.Score = max(r.Score, tr.Score)
			r.PatchScores = append(r.PatchScores, tr.PatchScores...)
			// A tile's map is Width x Height; a tile cut short by a small
			// image keeps its top-left part.
			for y := 0; y < t.Dy(); y++ {
				row := r.Map[(t.Min.Y+y)*size.X+t.Min.X : (t.Min.Y+y)*size.X+t.Max.X]
				src := tr.Map[y*tr.MapW : y*tr.MapW+t.Dx()]
				for x := range row {
					row[x] = max(row[x], src[x])
				}
			}
		}
	}
	r.IsAnomalous = b.Threshold > 0 && r.Score > b.Threshold
	return r, nil
}

// nearest returns each patch's k smallest distances to the bank: with the
// pruned index on the CPU, or by brute force on the extractor's device.
// Either layout is made on first use; brute force's again after a device
// failure has moved the device to its fallback.
func (d *Detector) nearest(patches []float32, n int) ([]float32, error) {
	b := d.bank
	dev := d.x.Exec.Device()
	if d.search.pruned(dev.Backend()) {
		if d.pruned == nil {
			ix, err := newIndex(b)
			if err != nil {
				return nil, err
			}
			d.pruned = ix
		}
		dists, st, err := d.pruned.Search(patches, n, b.K)
		d.stats.Queries += st.Queries
		d.stats.Exact += st.Exact
		return dists, err
	}
	for {
		be := dev.Backend()
		if d.brute == nil || d.bruteGen != dev.Generation() {
			// A half-precision bank is converted for this: brute force
			// (and a GPU's upload) reads every vector as float32.
			d.brute, d.bruteGen = be.PrepareIndex(b.Float32(), b.N, b.D), dev.Generation()
		}
		dists, err := be.Nearest(d.brute, patches, n, b.K)
		if err == nil {
			return dists, nil
		}
		if dev.Failover(err) != nil {
			return nil, err
		}
	}
}

// score turns a batch's patch vectors (one matrix per image) into
// Results, with one search for the whole batch: a server's batch of
// images makes one bigger search rather than several small ones.
func (d *Detector) score(batch [][]float32, withMap bool) ([]*Result, error) {
	b := d.bank
	var all []float32
	if len(batch) == 1 {
		all = batch[0]
	} else {
		all = slices.Concat(batch...)
	}
	t0 := time.Now()
	dists, err := d.nearest(all, len(all)/b.D)
	if err != nil {
		return nil, fmt.Errorf("patchcore: nearest-neighbour search: %w", err)
	}
	d.timings.Search += time.Since(t0)
	out := make([]*Result, len(batch))
	errs := make([]error, len(batch))
	starts := make([]int, len(batch)+1)
	for i, p := range batch {
		starts[i+1] = starts[i] + len(p)/b.D
	}
	// The maps are made side by side: upsampling and blurring is one
	// core's work per image.
	parallel.For(runtime.GOMAXPROCS(0), len(batch), 1, func(_, i int) {
		out[i], errs[i] = d.result(dists[starts[i]*b.K:starts[i+1]*b.K], starts[i+1]-starts[i], withMap)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// result is one image's Result from its n patches' k nearest distances.
func (d *Detector) result(dists []float32, n int, withMap bool) (*Result, error) {
	b := d.bank
	r := &Result{Threshold: b.Threshold, GridH: b.GridH, GridW: b.GridW, PatchScores: make([]float32, n)}
	for i := range r.PatchScores {
		var s float32
		for _, v := range dists[i*b.K : (i+1)*b.K] {
			s += v
		}
		r.PatchScores[i] = s / float32(b.K)
		r.Score = max(r.Score, float64(r.PatchScores[i]))
	}
	if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
		return nil, fmt.Errorf("patchcore: the image's score is %g: its pixels or the bank hold values that are not finite", r.Score)
	}
	r.IsAnomalous = b.Threshold > 0 && r.Score > b.Threshold
	if withMap {
		r.MapH, r.MapW = b.Prep.InputSize()
		if r.MapH == 0 {
			_, r.MapH, r.MapW = d.x.Exec.Model().InputShape()
		}
		r.Map = segment.Map(r.PatchScores, b.GridH, b.GridW, r.MapH, r.MapW, b.Sigma)
	}
	return r, nil
}
