package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"os"
	"sort"

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

var reportPage = template.Must(template.New("r").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Tessera evaluation: {{.R.Category}}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}
td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}figure{display:inline-block;margin:.4em;text-align:center}
figure img{width:224px;height:224px;image-rendering:pixelated}svg{background:#fafafa;border:1px solid #ccc}</style></head>
<body><h1>{{.R.Category}}</h1>
<table>
<tr><th>model</th><td>{{.R.Model}}</td></tr>
<tr><th>memory bank</th><td>{{.R.BankSize}} of {{.R.TrainPatches}} patches ({{.R.Coreset}} coreset) from {{.R.TrainImages}} images</td></tr>
<tr><th>image AUROC</th><td>{{printf "%.4f" .R.ImageAUROC}}</td></tr>
{{if .R.PixelNote}}<tr><th>pixel AUROC, PRO</th><td>{{.R.PixelNote}}</td></tr>{{else}}<tr><th>pixel AUROC</th><td>{{printf "%.4f" .R.PixelAUROC}}</td></tr>
<tr><th>PRO (FPR &le; 0.3)</th><td>{{printf "%.4f" .R.PRO}}</td></tr>{{end}}
<tr><th>threshold</th><td>{{printf "%.4g" .R.Threshold}}</td></tr>
<tr><th>fit</th><td>{{printf "%.1f" .R.Fit.TotalS}} s (backbone {{printf "%.1f" .R.Fit.BackboneS}} s, embedding {{printf "%.1f" .R.Fit.EmbedS}} s, coreset {{printf "%.1f" .R.Fit.CoresetS}} s)</td></tr>
<tr><th>predict</th><td>median {{printf "%.1f" .R.Predict.MedianMS}} ms/image</td></tr>
</table>
<h2>Curves</h2>
{{.ROC}} {{.PRO}}
<h2>Examples</h2>
{{range .Examples}}<figure><img src="data:image/png;base64,{{.PNG}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
</body></html>`))

type figure struct {
	PNG     string
	Caption string
}

// writeReport writes an HTML page with the figures, the ROC and PRO
// curves as SVG, and heatmaps of the highest-scoring defects and the
// highest-scoring good images.
func writeReport(path string, r *evalReport, prep imageprep.Config) error {
	ex := append([]example(nil), r.examples...)
	sort.Slice(ex, func(i, j int) bool { return ex[i].score > ex[j].score })
	var picks []example
	var bad, good int
	for _, e := range ex {
		if e.sample.Label && bad < 6 {
			picks = append(picks, e)
			bad++
		} else if !e.sample.Label && good < 3 {
			picks = append(picks, e)
			good++
		}
	}
	var figs []figure
	for _, e := range picks {
		img, err := imageprep.Open(e.sample.Path)
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		png.Encode(&buf, segment.Overlay(prep.Canvas(img), e.m, 0, float32(2*r.Threshold)))
		figs = append(figs, figure{
			PNG:     base64.StdEncoding.EncodeToString(buf.Bytes()),
			Caption: fmt.Sprintf("%s (score %.3g)", e.sample.Kind, e.score),
		})
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = reportPage.Execute(f, map[string]any{
		"R":        r,
		"ROC":      plot("image ROC", "false-positive rate", "true-positive rate", r.imageROC, 1),
		"PRO":      plot("PRO curve", "false-positive rate", "per-region overlap", r.proCurve, 0.3),
		"Examples": figs,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// plot draws a curve as an inline SVG over x in [0, xmax], y in [0, 1].
func plot(title, xl, yl string, c []metrics.Point, xmax float64) template.HTML {
	const w, h, m = 320.0, 240.0, 36.0
	var pts bytes.Buffer
	for _, p := range c {
		if p.X > xmax {
			break
		}
		fmt.Fprintf(&pts, "%.1f,%.1f ", m+p.X/xmax*(w-2*m), h-m-p.Y*(h-2*m))
	}
	return template.HTML(fmt.Sprintf(`<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="%s">
<text x="%g" y="16" text-anchor="middle">%s</text>
<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>
<polyline points="%s" fill="none" stroke="#c0392b" stroke-width="2"/>
<text x="%g" y="%g" text-anchor="middle" font-size="11">%s (0 to %g)</text>
<text x="12" y="%g" font-size="11" transform="rotate(-90 12 %g)" text-anchor="middle">%s</text></svg>`,
		w, h, w, h, title, w/2, title, m, m, w-2*m, h-2*m, pts.String(), w/2, h-8, xl, xmax, h/2, h/2, yl))
}
