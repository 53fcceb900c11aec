package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/metrics"
	"github.com/tessera/tessera/core/patchcore/segment"
)

type example struct {
	sample dataset.Sample
	score  float64
	m      []float32 // anomaly map
}

// kindFigures is one defect type's image AUROC against the good images.
type kindFigures struct {
	Kind       string  `json:"kind"`
	Images     int     `json:"images"`
	ImageAUROC float64 `json:"image_auroc"`
	// Passed is how many of them scored at or under the threshold.
	Passed int `json:"passed_at_threshold"`
}

// confusion is the verdicts at the stored threshold.
type confusion struct {
	DefectsFlagged int `json:"defects_flagged"`
	DefectsPassed  int `json:"defects_passed"`
	GoodPassed     int `json:"good_passed"`
	GoodRejected   int `json:"good_rejected"`
	// FPR and TPR are the threshold's operating point on the ROC.
	FPR float64 `json:"fpr"`
	TPR float64 `json:"tpr"`
}

// worstCases are what a quality engineer looks at first: the defects
// that scored lowest (missed, or nearest to it) and the good parts that
// scored highest (false alarms, or nearest to one).
type worstCases struct {
	Missed      []evalImage `json:"lowest_defects"`
	FalseAlarms []evalImage `json:"highest_good"`
}

// summarize fills in the figures per defect type, the confusion at the
// threshold and the worst cases.
func summarize(rep *evalReport) {
	var good []float32
	byKind := map[string][]float32{}
	for _, im := range rep.Images {
		if im.Kind == "good" {
			good = append(good, float32(im.Score))
		} else {
			byKind[im.Kind] = append(byKind[im.Kind], float32(im.Score))
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	rep.PerKind = nil
	for _, k := range kinds {
		s := append(append([]float32(nil), good...), byKind[k]...)
		labels := make([]bool, len(s))
		for i := len(good); i < len(s); i++ {
			labels[i] = true
		}
		kf := kindFigures{Kind: k, Images: len(byKind[k])}
		kf.ImageAUROC, _ = metrics.AUROC(s, labels)
		for _, v := range byKind[k] {
			if float64(v) <= rep.Threshold {
				kf.Passed++
			}
		}
		rep.PerKind = append(rep.PerKind, kf)
	}
	c := confusion{}
	for _, im := range rep.Images {
		switch {
		case im.Kind != "good" && im.IsAnomalous:
			c.DefectsFlagged++
		case im.Kind != "good":
			c.DefectsPassed++
		case im.IsAnomalous:
			c.GoodRejected++
		default:
			c.GoodPassed++
		}
	}
	if n := c.GoodPassed + c.GoodRejected; n > 0 {
		c.FPR = float64(c.GoodRejected) / float64(n)
	}
	if n := c.DefectsFlagged + c.DefectsPassed; n > 0 {
		c.TPR = float64(c.DefectsFlagged) / float64(n)
	}
	rep.Confusion = c
	var defects, goods []evalImage
	for _, im := range rep.Images {
		if im.Kind == "good" {
			goods = append(goods, im)
		} else {
			defects = append(defects, im)
		}
	}
	sort.SliceStable(defects, func(i, j int) bool { return defects[i].Score < defects[j].Score })
	sort.SliceStable(goods, func(i, j int) bool { return goods[i].Score > goods[j].Score })
	rep.Worst = worstCases{Missed: defects[:min(4, len(defects))], FalseAlarms: goods[:min(4, len(goods))]}
}

var reportPage = template.Must(template.New("r").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Tessera evaluation: {{.R.Category}}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1150px}table{border-collapse:collapse;margin-bottom:1em}
td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}figure{display:inline-block;margin:.4em;text-align:center;vertical-align:top}
figure img{width:224px;image-rendering:auto}.plots svg{margin-right:1em}.bad{color:#b03a2e;font-weight:600}</style></head>
<body><h1>{{.R.Category}}</h1>
<table>
<tr><th>model</th><td>{{.R.Model}}</td></tr>
<tr><th>images prepared</th><td>{{.Prep}}</td></tr>
<tr><th>memory bank</th><td>{{.R.BankSize}} of {{.R.TrainPatches}} patches ({{.R.Coreset}} coreset) from {{.R.TrainImages}} images</td></tr>
<tr><th>image AUROC</th><td>{{printf "%.4f" .R.ImageAUROC}}</td></tr>
{{if .R.PixelNote}}<tr><th>pixel AUROC, PRO</th><td>{{.R.PixelNote}}</td></tr>{{else}}<tr><th>pixel AUROC</th><td>{{printf "%.4f" .R.PixelAUROC}}</td></tr>
<tr><th>PRO (FPR &le; 0.3)</th><td>{{printf "%.4f" .R.PRO}}</td></tr>{{end}}
<tr><th>threshold</th><td>{{printf "%.4g" .R.Threshold}} (from the held-out good images)</td></tr>
<tr><th>fit</th><td>{{printf "%.1f" .R.Fit.TotalS}} s (backbone {{printf "%.1f" .R.Fit.BackboneS}} s, embedding {{printf "%.1f" .R.Fit.EmbedS}} s, coreset {{printf "%.1f" .R.Fit.CoresetS}} s)</td></tr>
<tr><th>predict</th><td>median {{printf "%.1f" .R.Predict.MedianMS}} ms/image</td></tr>
</table>
<h2>At the stored threshold</h2>
<table><tr><th></th><th>flagged</th><th>passed</th></tr>
<tr><th>defective parts</th><td class="n">{{.R.Confusion.DefectsFlagged}}</td><td class="n{{if .R.Confusion.DefectsPassed}} bad{{end}}">{{.R.Confusion.DefectsPassed}} passed as good</td></tr>
<tr><th>good parts</th><td class="n{{if .R.Confusion.GoodRejected}} bad{{end}}">{{.R.Confusion.GoodRejected}} rejected</td><td class="n">{{.R.Confusion.GoodPassed}}</td></tr></table>
<h2>Per defect type</h2>
<table><tr><th>defect type</th><th>images</th><th>image AUROC vs good</th><th>passed at the threshold</th></tr>
{{range .R.PerKind}}<tr><td>{{.Kind}}</td><td class="n">{{.Images}}</td><td class="n">{{printf "%.4f" .ImageAUROC}}</td><td class="n{{if .Passed}} bad{{end}}">{{.Passed}}</td></tr>{{end}}</table>
<h2>Curves</h2>
<div class="plots">{{.ROC}}{{.PRO}}</div>
<h2>Lowest-scoring defects (missed, or nearest to it)</h2>
{{range .Missed}}<figure><img src="data:image/png;base64,{{.PNG}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
<h2>Highest-scoring good parts (false alarms, or nearest to one)</h2>
{{range .FalseAlarms}}<figure><img src="data:image/png;base64,{{.PNG}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
<h2>Highest-scoring defects</h2>
{{range .Top}}<figure><img src="data:image/png;base64,{{.PNG}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
<p>Heatmaps: blue to red, red from the threshold up (the colour scale of tessera predict and the page).</p>
</body></html>`))

type figure struct {
	PNG     string
	Caption string
}

// writeReport writes an HTML page with the figures, the ROC curve with
// the threshold's operating point and the PRO curve (gonum/plot, as
// SVG), and heatmaps of the worst cases of each kind.
func writeReport(path string, r *evalReport, prep imageprep.Config) error {
	byPath := map[string]example{}
	for _, e := range r.examples {
		byPath[e.sample.Path] = e
	}
	figs := func(list []evalImage) []figure {
		var out []figure
		for _, im := range list {
			e, ok := byPath[im.Path]
			if !ok {
				continue
			}
			img, err := imageprep.Open(im.Path)
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			png.Encode(&buf, segment.Overlay(prep.Canvas(img), e.m, 0, segment.HotAt(r.Threshold, e.m)))
			verdict := "passed"
			if im.IsAnomalous {
				verdict = "flagged"
			}
			out = append(out, figure{
				PNG:     base64.StdEncoding.EncodeToString(buf.Bytes()),
				Caption: fmt.Sprintf("%s %s: score %.3g, %s", e.sample.Kind, filepath.Base(im.Path), im.Score, verdict),
			})
		}
		return out
	}
	var defects []evalImage
	for _, im := range r.Images {
		if im.Kind != "good" {
			defects = append(defects, im)
		}
	}
	sort.SliceStable(defects, func(i, j int) bool { return defects[i].Score > defects[j].Score })
	roc, err := curveSVG("Image ROC", "false-positive rate", "true-positive rate", r.imageROC, 1,
		&plotter.XY{X: r.Confusion.FPR, Y: r.Confusion.TPR}, fmt.Sprintf("threshold %.4g", r.Threshold))
	if err != nil {
		return err
	}
	pro := template.HTML("")
	if len(r.proCurve) > 0 {
		if pro, err = curveSVG("PRO curve", "false-positive rate (pixels)", "per-region overlap", r.proCurve, 0.3, nil, ""); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = reportPage.Execute(f, map[string]any{
		"R": r, "ROC": roc, "PRO": pro, "Prep": prepText(prep),
		"Missed": figs(r.Worst.Missed), "FalseAlarms": figs(r.Worst.FalseAlarms), "Top": figs(defects[:min(3, len(defects))]),
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// prepText says how images were prepared, for the report.
func prepText(p imageprep.Config) string {
	switch p.Fit {
	case imageprep.FitPad:
		return fmt.Sprintf("whole image, aspect kept, padded to %dx%d; maps on the original pixels", p.Width, p.Height)
	case imageprep.FitStretch:
		return fmt.Sprintf("whole image stretched to %dx%d; maps on the original pixels", p.Width, p.Height)
	case imageprep.FitTile:
		return fmt.Sprintf("tiles of %dx%d at the image's own resolution, overlapping by %d; maps stitched on the original pixels", p.Width, p.Height, p.Overlap)
	}
	return fmt.Sprintf("short side to %d, centre crop %d (the reference's); maps on the crop", p.Resize, p.Crop)
}

// curveSVG draws a curve over x in [0, xmax], y in [0, 1], with axes,
// ticks and grid, and an operating point when op is not nil.
func curveSVG(title, xl, yl string, c []metrics.Point, xmax float64, op *plotter.XY, opLabel string) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xl, yl
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, xmax, 0, 1
	p.Add(plotter.NewGrid())
	var pts plotter.XYs
	for i, q := range c {
		if q.X > xmax {
			// The curve up to xmax, cut where it crosses it.
			if i > 0 {
				a := c[i-1]
				t := (xmax - a.X) / (q.X - a.X)
				pts = append(pts, plotter.XY{X: xmax, Y: a.Y + t*(q.Y-a.Y)})
			}
			break
		}
		pts = append(pts, plotter.XY{X: q.X, Y: q.Y})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return "", err
	}
	line.Color = color.RGBA{R: 192, G: 57, B: 43, A: 255}
	line.Width = vg.Points(1.5)
	p.Add(line)
	if op != nil {
		s, err := plotter.NewScatter(plotter.XYs{*op})
		if err != nil {
			return "", err
		}
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = vg.Points(4)
		s.GlyphStyle.Color = color.RGBA{R: 31, G: 97, B: 141, A: 255}
		p.Add(s)
		p.Legend.Add(opLabel, s)
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
	}
	canvas := vgsvg.New(4.2*vg.Inch, 3.2*vg.Inch)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", err
	}
	// The SVG inline: drop the XML declaration the page does not need.
	svg := buf.Bytes()
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	return template.HTML(svg), nil
}
