package bank

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/embed"
)

func sample() *Bank {
	e := embed.Default()
	e.PretrainDim, e.TargetDim = 3, 3
	return &Bank{
		Header: Header{ModelSHA256: "abc", ModelName: "m.onnx", Layers: []string{"layer2", "layer3"},
			LayerShapes: [][]int{{8, 2, 2}, {16, 1, 1}},
			Prep:        imageprep.ImageNet(), Embed: e, GridH: 2, GridW: 2, K: 1, Sigma: 4,
			Threshold: 1.5, N: 2, D: 3},
		Vectors: []float32{1, 2, 3, 4, 5, 6},
	}
}

// craft makes bank bytes with any header and vector bytes, checksummed,
// as a hostile file would be.
func craft(t *testing.T, h Header, raw []byte) []byte {
	t.Helper()
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString(magic)
	binary.Write(&buf, binary.LittleEndian, uint32(version))
	binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	buf.Write(raw)
	sum := sha256.Sum256(buf.Bytes())
	return append(buf.Bytes(), sum[:]...)
}

// TestHostileHeaders: a header that would make scoring panic, hang, run
// out of memory or score silently wrong is refused on reading, naming the
// field.
func TestHostileHeaders(t *testing.T) {
	raw := make([]byte, 4*2*3)
	for name, tc := range map[string]struct {
		edit func(h *Header)
		want string
	}{
		"n*d overflows":    {func(h *Header) { h.N, h.D = 1<<61, 8 }, "bytes of vectors"},
		"huge d":           {func(h *Header) { h.N, h.D = 0, 1<<20 }, "bytes of vectors"},
		"patch size 0":     {func(h *Header) { h.Embed.PatchSize = 0 }, "patch size"},
		"patch size 2":     {func(h *Header) { h.Embed.PatchSize = 2 }, "patch size"},
		"huge sigma":       {func(h *Header) { h.Sigma = 1e9 }, "sigma"},
		"std 0":            {func(h *Header) { h.Prep.Std[1] = 0 }, "std"},
		"model path":       {func(h *Header) { h.ModelName = "/dev/zero" }, "model_name"},
		"model up":         {func(h *Header) { h.ModelName = "../weights/x.onnx" }, "model_name"},
		"negative thresh":  {func(h *Header) { h.Threshold = -1 }, "threshold"},
		"k 0":              {func(h *Header) { h.K = 0 }, "k = 0"},
		"k over n":         {func(h *Header) { h.K = 3 }, "k = 3"},
		"grid 0":           {func(h *Header) { h.GridW = 0 }, "patch grid"},
		"d is not target":  {func(h *Header) { h.Embed.TargetDim = 4 }, "target dimension"},
		"shapes missing":   {func(h *Header) { h.LayerShapes = nil }, "shapes"},
		"shape of 2 sizes": {func(h *Header) { h.LayerShapes[0] = []int{8, 2} }, "layer \"layer2\""},
	} {
		h := sample().Header
		h.LayerShapes = [][]int{{8, 2, 2}, {16, 1, 1}}
		tc.edit(&h)
		if _, err := Decode(craft(t, h, raw)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
	if _, err := Decode(craft(t, sample().Header, raw)); err != nil {
		t.Errorf("the valid header: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.tbank")
	if err := sample().WriteFile(p); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b.ModelSHA256 != "abc" || b.Threshold != 1.5 || b.Prep != imageprep.ImageNet() || len(b.Vectors) != 6 || b.Vectors[5] != 6 {
		t.Errorf("round trip lost data: %+v", b)
	}
}

func TestCorruptFiles(t *testing.T) {
	data, _ := sample().Encode()
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	v9 := append([]byte(nil), data...)
	v9[8] = 9
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"truncated":   {data[:len(data)-10], "checksum"},
		"bit flip":    {flipped, "checksum"},
		"not a bank":  {[]byte("PK\x03\x04 a zip file, say, long enough to pass the size check........"), "not a Tessera bank"},
		"new version": {v9, "format version 9"},
		"empty":       {nil, "not a Tessera bank"},
	} {
		if _, err := Decode(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestFailedWriteKeepsOldBank(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tbank")
	if err := sample().WriteFile(p); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	bad := sample()
	bad.N = 5 // inconsistent: fails before anything is written
	if err := bad.WriteFile(p); err == nil {
		t.Fatal("inconsistent bank written")
	}
	after, _ := os.ReadFile(p)
	if string(before) != string(after) {
		t.Error("a failed write changed the existing bank")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestWriteFileModeAndLeftovers: a bank gets the permissions any new file
// gets under the umask (not 0600), and a temporary file that a crashed
// write left is removed by the next write.
func TestWriteFileModeAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tbank")
	crashed := filepath.Join(dir, ".b.tbank.tmp-1-1")
	os.WriteFile(crashed, []byte("half a bank"), 0o600)
	if err := sample().WriteFile(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crashed); !os.IsNotExist(err) {
		t.Errorf("the crashed write's temporary file is still there (%v)", err)
	}
	probe := filepath.Join(dir, "probe")
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	want, _ := os.Stat(probe)
	got, _ := os.Stat(p)
	if got.Mode().Perm() != want.Mode().Perm() {
		t.Errorf("bank written %v, a new file under this umask is %v", got.Mode().Perm(), want.Mode().Perm())
	}
}

// TestHalfPrecisionBank: an f16 bank is half the vectors' bytes, reads back
// the rounded values exactly, and is refused when its version and
// precision disagree or its values were not rounded first.
func TestHalfPrecisionBank(t *testing.T) {
	b := sample()
	full, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h := sample()
	h.Precision = F16
	h.Vectors[0] = 0.1 // no half is 0.1
	if _, err := h.Encode(); err == nil || !strings.Contains(err.Error(), "RoundToHalf") {
		t.Errorf("unrounded f16 bank: %v", err)
	}
	if err := RoundToHalf(h.Vectors); err != nil {
		t.Fatal(err)
	}
	half, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(full)-len(half), 2*len(b.Vectors)+len(`,"precision":"f16"`)*-1; got != want {
		t.Errorf("the f16 file is %d bytes smaller, want %d", got, want)
	}
	back, err := Decode(half)
	if err != nil {
		t.Fatal(err)
	}
	// Read back, it stays half precision in memory: Half, not Vectors.
	if back.Vectors != nil || len(back.Half) != len(h.Vectors) {
		t.Fatalf("an f16 bank decodes to %d float32 and %d half values", len(back.Vectors), len(back.Half))
	}
	for i, v := range back.Float32() {
		if h.Vectors[i] != v {
			t.Fatalf("value %d: %g read back as %g", i, h.Vectors[i], v)
		}
	}
	// Held as halves, it encodes to the same bytes; with both, it is refused.
	hv, err := Halves(h.Vectors)
	if err != nil {
		t.Fatal(err)
	}
	h.Half = hv
	if _, err := h.Encode(); err == nil {
		t.Error("a bank with both float32 and half vectors encoded")
	}
	h.Vectors = nil
	if again, err := h.Encode(); err != nil || !bytes.Equal(again, half) {
		t.Errorf("encoding the halves: %v (same bytes: %v)", err, bytes.Equal(again, half))
	}
	// Version 1 with precision f16: the checksum is redone so that only
	// the disagreement is wrong.
	bad := append([]byte(nil), half[:len(half)-32]...)
	bad[8] = 1
	sum := sha256.Sum256(bad)
	if _, err := Decode(append(bad, sum[:]...)); err == nil || !strings.Contains(err.Error(), "version 1 with precision") {
		t.Errorf("version 1 with f16 vectors: %v", err)
	}
}

// TestVersion1File: a version-1 bank written before the header had its own
// file struct (testdata/v1.tbank) still decodes field by field and
// re-encodes to the same bytes, so the format has not moved.
func TestVersion1File(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "v1.tbank"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	h := b.Header
	if h.ModelName != "m.onnx" || h.Prep.Crop != 224 || h.Prep.Std[2] != 0.225 || h.Embed.TargetDim != 3 ||
		h.Coreset.Seed != 7 || h.Coreset.ProjectTo != 128 || h.ThresholdRule == "" || len(h.HoldoutScores) != 2 ||
		h.TrainPatches != 12 || h.Created != "2026-12-01T13:00:00Z" || h.Precision != "" || b.Vectors[5] != 6 {
		t.Errorf("decoded header %+v, vectors %v", h, b.Vectors)
	}
	again, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("re-encoded version-1 bank differs:\n%q\n%q", again[16:400], data[16:400])
	}
}

// TestWholeImageBank: a bank whose images are prepared whole is format
// version 3 (so that a build that would crop them refuses it), keeps its
// fit and size, and a version-3 file claiming the crop is refused.
func TestWholeImageBank(t *testing.T) {
	b := sample()
	b.Prep = imageprep.ImageNet()
	b.Prep.Fit, b.Prep.Resize, b.Prep.Crop, b.Prep.Width, b.Prep.Height = imageprep.FitPad, 0, 0, 320, 256
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != 3 {
		t.Fatalf("version %d, want 3", v)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Prep != b.Prep {
		t.Errorf("preparation %+v after the round trip, want %+v", got.Prep, b.Prep)
	}
	// The same bytes saying version 1: refused, not read as a crop.
	binary.LittleEndian.PutUint32(data[8:], 1)
	body := data[:len(data)-sha256.Size]
	sum := sha256.Sum256(body)
	copy(data[len(body):], sum[:])
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "image fit") {
		t.Errorf("version 1 with fit pad: %v", err)
	}
}
