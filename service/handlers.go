package service

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
)

// Verdict is the reply to a score request: the fields of tessera
// predict's output, with where the time went and, when asked for, the map.
type Verdict struct {
	Bank        string  `json:"bank"`
	Score       float64 `json:"score"`
	Threshold   float64 `json:"threshold"`
	IsAnomalous bool    `json:"is_anomalous"`
	// Batch is how many images were scored together with this one.
	Batch   int            `json:"batch"`
	Timings VerdictTimings `json:"timings"`
	Map     *MapData       `json:"map,omitempty"`
}

// VerdictTimings are in milliseconds.
type VerdictTimings struct {
	DecodeMS  float64 `json:"decode_ms"`
	QueueMS   float64 `json:"queue_ms"`
	PredictMS float64 `json:"predict_ms"` // the whole batch's backbone, search and maps
	TotalMS   float64 `json:"total_ms"`
}

// MapData is the anomaly map: a PNG heatmap overlay on the prepared image
// (format "png"), or the map's float32 values, little-endian, row by row
// (format "f32"); Data is base64.
type MapData struct {
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Data   string `json:"data"`
}

// errorReply is every error's body.
type errorReply struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
	return code
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) int {
	return writeJSON(w, code, errorReply{Error: fmt.Sprintf(format, args...)})
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1e3 }

func (s *Service) score(w http.ResponseWriter, r *http.Request) int {
	t0 := time.Now()
	name := r.PathValue("name")
	sc := s.scorerFor(name)
	if sc == nil {
		return writeError(w, http.StatusNotFound, "no bank %q is loaded", name)
	}
	// When overloaded, refuse before reading and decoding: those cost as
	// much as a share of a batch.
	if sc.full() {
		return s.tooMany(w, name)
	}
	mapFormat := r.URL.Query().Get("map")
	if mapFormat != "" && mapFormat != "png" && mapFormat != "f32" {
		return writeError(w, http.StatusBadRequest, "map=%q: want png or f32", mapFormat)
	}
	data, code, err := s.readImage(w, r)
	if err != nil {
		return writeError(w, code, "%v", err)
	}
	img, err := imageprep.DecodeMax(data, s.cfg.MaxPixels)
	if err != nil {
		var tooBig *imageprep.TooManyPixelsError
		if errors.As(err, &tooBig) {
			return writeError(w, http.StatusRequestEntityTooLarge, "image: %v", err)
		}
		return writeError(w, http.StatusBadRequest, "image: %v", err)
	}
	decoded := time.Now()
	j := &job{ctx: r.Context(), img: img, enqueued: decoded, done: make(chan outcome, 1)}
	// A bank replaced between the lookup and the send is looked up again.
	for {
		sc = s.scorerFor(name)
		if sc == nil {
			return writeError(w, http.StatusNotFound, "no bank %q is loaded", name)
		}
		err = sc.submit(j)
		if !errors.Is(err, errRetired) {
			break
		}
	}
	if errors.Is(err, errQueueFull) {
		return s.tooMany(w, name)
	}
	var o outcome
	select {
	case o = <-j.done:
	case <-r.Context().Done():
		return writeError(w, http.StatusServiceUnavailable, "bank %s: no answer within %v", name, s.cfg.RequestTimeout)
	}
	if o.err != nil {
		if r.Context().Err() != nil {
			return writeError(w, http.StatusServiceUnavailable, "bank %s: no answer within %v", name, s.cfg.RequestTimeout)
		}
		return writeError(w, http.StatusUnprocessableEntity, "%v", o.err)
	}
	v := Verdict{
		Bank: name, Score: o.p.Score, Threshold: o.p.Threshold, IsAnomalous: o.p.IsAnomalous, Batch: o.batch,
		Timings: VerdictTimings{DecodeMS: ms(decoded.Sub(t0)), QueueMS: ms(o.queued), PredictMS: ms(o.ran)},
	}
	if mapFormat != "" {
		if v.Map, err = mapData(mapFormat, o.prep.Canvas(img), o.p); err != nil {
			return writeError(w, http.StatusInternalServerError, "map: %v", err)
		}
	}
	v.Timings.TotalMS = ms(time.Since(t0))
	return writeJSON(w, http.StatusOK, v)
}

// tooMany answers 429: the bank's queue is full.
func (s *Service) tooMany(w http.ResponseWriter, name string) int {
	w.Header().Set("Retry-After", "1")
	return writeError(w, http.StatusTooManyRequests, "bank %s: %d requests are waiting already; retry later", name, s.cfg.QueueSize)
}

// readImage reads the request's image: the body, or the multipart field
// "image". It answers with the status to give when it fails.
func (s *Service) readImage(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	var src io.Reader = body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("multipart body: %w", err)
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil, http.StatusBadRequest, errors.New(`multipart body has no field "image"`)
			}
			if err != nil {
				return nil, readStatus(err), fmt.Errorf("multipart body: %w", err)
			}
			if p.FormName() == "image" {
				src = p
				break
			}
		}
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, readStatus(err), fmt.Errorf("reading the image: %w", err)
	}
	if len(data) == 0 {
		return nil, http.StatusBadRequest, fmt.Errorf("empty body: post the image's bytes (%s), or multipart with field \"image\"", imageprep.Formats)
	}
	return data, 0, nil
}

// readStatus is 413 for a body over the limit, 408 for one that did not
// arrive within the read timeout (a slow client), else 400.
func readStatus(err error) int {
	var tooBig *http.MaxBytesError
	var nerr net.Error
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &nerr) && nerr.Timeout():
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// mapData encodes a prediction's map as asked; prepared is the image as
// the bank prepares it, under the overlay.
func mapData(format string, prepared *image.RGBA, p inspector.Prediction) (*MapData, error) {
	var buf bytes.Buffer
	w, h := p.MapW, p.MapH
	switch format {
	case "png":
		overlay := inspector.Overlay(prepared, p.Result)
		if err := png.Encode(&buf, overlay); err != nil {
			return nil, err
		}
		w, h = overlay.Rect.Dx(), overlay.Rect.Dy()
	case "f32":
		buf.Grow(4 * len(p.Map))
		binary.Write(&buf, binary.LittleEndian, p.Map)
	}
	return &MapData{Format: format, Width: w, Height: h, Data: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func (s *Service) listBanks(w http.ResponseWriter, r *http.Request) int {
	return writeJSON(w, http.StatusOK, map[string]any{"banks": s.Banks()})
}

// putBank loads or replaces a bank from the file in the body.
func (s *Service) putBank(w http.ResponseWriter, r *http.Request) int {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBankBytes))
	if err != nil {
		return writeError(w, readStatus(err), "reading the bank: %v", err)
	}
	info, err := s.LoadBank(r.PathValue("name"), data)
	if err != nil {
		return writeError(w, http.StatusUnprocessableEntity, "%v", err)
	}
	return writeJSON(w, http.StatusOK, info)
}

// warm scores one plain image, so that the first request does not pay
// for laying out the search index and the kernels' first runs.
func warm(in *inspector.Inspector) error {
	side := max(in.Bank().Prep.Resize, in.Info().Input[1], 32)
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = uint8(96 + i%64)
	}
	_, err := in.Predict([]image.Image{img}, inspector.PredictOptions{})
	return err
}
