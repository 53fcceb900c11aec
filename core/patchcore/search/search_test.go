package search_test

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	pbank "github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/search"
	"github.com/tessera/tessera/internal/benchdata"
	"github.com/tessera/tessera/internal/shared"
)

// brute is the reference: the CPU backend's brute-force search.
func brute(t testing.TB, bank []float32, n, d int, q []float32, nq, k int) []float32 {
	be := cpu.New(0)
	out, err := be.Nearest(be.PrepareIndex(bank, n, d), q, nq, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compare checks the pruned search against brute force: every distance
// equal within float rounding of the sums: 1e-4 relative to the distance,
// plus 1e-6 of the largest squared norm, which brute force's
// |q|^2 - 2 q.b + |b|^2 loses to cancellation.
func compare(t *testing.T, got, want []float32, d int, vecs ...[]float32) {
	t.Helper()
	scale := 0.0
	for _, v := range vecs {
		scale = max(scale, maxSqNorm(v, d))
	}
	worst := 0.0
	for i := range want {
		diff := math.Abs(float64(got[i]) - float64(want[i]))
		tol := 1e-4*math.Abs(float64(want[i])) + 1e-6*scale
		if diff > tol {
			t.Fatalf("distance %d: pruned %g, brute force %g", i, got[i], want[i])
		}
		if want[i] > 0 {
			worst = max(worst, diff/float64(want[i]))
		}
	}
	t.Logf("worst relative difference to brute force %.2e", worst)
}

// maxSqNorm is the largest squared norm of the rows of x (d values each).
func maxSqNorm(x []float32, d int) float64 {
	m := 0.0
	for i := 0; i+d <= len(x); i += d {
		var s float64
		for _, v := range x[i : i+d] {
			s += float64(v) * float64(v)
		}
		m = max(m, s)
	}
	return m
}

func TestSyntheticAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name        string
		n, d, nq, k int
		dims        int
		spread      func(i, j int) float64
	}{
		{"clustered", 3000, 96, 200, 1, 16, func(i, j int) float64 { return float64(i%7) + 0.1*rng.NormFloat64() }},
		{"k=3", 2000, 64, 150, 3, 32, func(i, j int) float64 { return rng.NormFloat64() * (1 + float64(j%5)) }},
		{"k=bank", 5, 16, 20, 5, 32, func(i, j int) float64 { return rng.NormFloat64() }},
		{"one vector", 1, 8, 10, 1, 32, func(i, j int) float64 { return rng.NormFloat64() }},
		{"duplicates", 500, 32, 50, 2, 8, func(i, j int) float64 { return float64(i % 3) }},
		{"constant", 100, 32, 10, 1, 8, func(i, j int) float64 { return 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bank := make([]float32, tc.n*tc.d)
			for i := range bank {
				bank[i] = float32(tc.spread(i/tc.d, i%tc.d))
			}
			q := make([]float32, tc.nq*tc.d)
			for i := range q {
				q[i] = float32(tc.spread(i/tc.d, i%tc.d) + 0.3*rng.NormFloat64())
			}
			ix, err := search.New(bank, tc.n, tc.d, search.Options{Dims: tc.dims, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			got, st, err := ix.Search(q, tc.nq, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, got, brute(t, bank, tc.n, tc.d, q, tc.nq, tc.k), tc.d, bank, q)
			t.Logf("%d exact distances for %d queries x %d vectors", st.Exact, tc.nq, tc.n)
		})
	}
}

func TestBadArguments(t *testing.T) {
	if _, err := search.New(make([]float32, 10), 3, 4, search.Options{}); err == nil {
		t.Error("a bank of 10 values as 3 x 4 was accepted")
	}
	ix, err := search.New(make([]float32, 12), 3, 4, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ix.Search(make([]float32, 8), 2, 4); err == nil {
		t.Error("k = 4 in a bank of 3 was accepted")
	}
	if _, _, err := ix.Search(make([]float32, 7), 2, 1); err == nil {
		t.Error("7 query values as 2 x 4 were accepted")
	}
}

// sampleData is a real bank and real queries from the shipped sample:
// the patch vectors of its good training images (a share of them, as a
// coreset would keep), and every patch of some test images, good and
// defective, MobileNetV2.
func sampleData(t testing.TB, keep float64, tests int) (bank []float32, n int, q []float32, nq, d int) {
	x, err := patchcore.LoadExtractor(shared.Weights(t, "mobilenetv2-layer3.onnx"), backbone.Options{}, imageprep.ImageNet(), compute.Fixed(cpu.New(0)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := patchcore.Default()
	d = cfg.Embed.TargetDim
	train, err := dataset.TrainImages(shared.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	test, err := dataset.Test(shared.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	var testPaths []string
	for i := 0; i < tests; i++ {
		testPaths = append(testPaths, test[i*len(test)/tests].Path)
	}
	vecs := func(paths []string) []float32 {
		var imgs []image.Image
		for _, p := range paths {
			img, err := imageprep.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		ps, _, _, err := x.PatchVectors(imgs, cfg.Embed, nil)
		if err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, p := range ps {
			all = append(all, p...)
		}
		return all
	}
	all := vecs(train)
	step := int(math.Round(1 / keep))
	for i := 0; i < len(all)/d; i += step {
		bank = append(bank, all[i*d:(i+1)*d]...)
	}
	q = vecs(testPaths)
	return bank, len(bank) / d, q, len(q) / d, d
}

// TestRealBankAgainstBruteForce: on real features, the pruned search
// finds the same distances as brute force, with a fraction of the work.
func TestRealBankAgainstBruteForce(t *testing.T) {
	keep, tests := 0.5, 4
	if runtime.GOARCH == "wasm" {
		keep, tests = 0.2, 2 // brute force is slow there
	}
	bank, n, q, nq, d := sampleData(t, keep, tests)
	want := brute(t, bank, n, d, q, nq, 3)
	for _, k := range []int{1, 3} {
		ix, err := search.New(bank, n, d, search.Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		got, st, err := ix.Search(q, nq, k)
		if err != nil {
			t.Fatal(err)
		}
		ref := make([]float32, 0, nq*k)
		for i := 0; i < nq; i++ {
			ref = append(ref, want[i*3:i*3+k]...)
		}
		compare(t, got, ref, d, bank, q)
		share := float64(st.Exact) / float64(int64(nq)*int64(n))
		t.Logf("k=%d: bank %d, %d queries: %.2f%% of brute force's exact distances", k, n, nq, 100*share)
		if share > 0.2 {
			t.Errorf("k=%d: %.1f%% of the distances computed, want the pruning to skip most", k, 100*share)
		}
	}
}

// Real banks of the shared sets, with the queries of 8 test images.
var benchSets = []benchdata.Set{
	benchdata.Sample,
	{Category: "mvtec-ad-256/bottle", Model: "resnet50v2-layer3.onnx"},
	{Category: "magnetic-tile", Model: "resnet50v2-layer3.onnx"},
	{Category: "mvtec-ad-256/bottle", Model: "mobilenetv2-layer3.onnx"},
}

// BenchmarkSearch times one image's search (784 patches) on real banks:
// brute force (the CPU backend) and the pruned index, in one run.
func BenchmarkSearch(b *testing.B) {
	for _, set := range benchSets {
		// Loaded in the sub-benchmarks, so that a filter that leaves a set
		// out does not extract its data.
		var bank, q []float32
		var n, nq, d int
		load := func(b *testing.B) {
			if bank == nil {
				bank, n, d = benchdata.Bank(b, set)
				q, nq, _ = benchdata.Test(b, set, 8)
			}
		}
		b.Run(set.String()+"/brute", func(b *testing.B) {
			load(b)
			be := cpu.New(0)
			nn := be.PrepareIndex(bank, n, d)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				img := i % (nq / 784)
				if _, err := be.Nearest(nn, q[img*784*d:(img+1)*784*d], 784, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "bank")
		})
		dims := search.DefaultDims
		if v, err := strconv.Atoi(os.Getenv("TESSERA_SEARCH_DIMS")); err == nil {
			dims = v // to measure other projection sizes
		}
		b.Run(set.String()+"/exact", func(b *testing.B) {
			load(b)
			ix, err := search.New(bank, n, d, search.Options{Dims: dims, Workers: runtime.GOMAXPROCS(0)})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var work, queries int64
			for i := 0; i < b.N; i++ {
				img := i % (nq / 784)
				_, st, err := ix.Search(q[img*784*d:(img+1)*784*d], 784, 1)
				if err != nil {
					b.Fatal(err)
				}
				work += st.Exact
				queries += st.Queries
			}
			b.ReportMetric(100*float64(work)/float64(queries)/float64(n), "%exact")
		})
	}
}

// TestHalfBank: an index over a half-precision bank (NewHalf) finds
// exactly what New finds over the same values in float32, holding the
// bank in half the memory.
func TestHalfBank(t *testing.T) {
	bank, n, q, nq, d := sampleData(t, 0.5, 2)
	if err := pbank.RoundToHalf(bank); err != nil {
		t.Fatal(err)
	}
	half, err := pbank.Halves(bank)
	if err != nil {
		t.Fatal(err)
	}
	full, err := search.New(bank, n, d, search.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := full.Search(q, nq, 3)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := search.NewHalf(half, n, d, search.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := ix.Search(q, nq, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("distance %d: %g over the halves, %g over their float32 values", i, got[i], want[i])
		}
	}
	// The memory each holds, the bank included: the halves in place of
	// the float32 vectors, the rest the same.
	f32, f16 := full.Bytes(), ix.Bytes()
	t.Logf("bank of %d x %d with its index: %.1f MB in float32, %.1f MB in half precision (%.2f)", n, d, float64(f32)/1e6, float64(f16)/1e6, float64(f16)/float64(f32))
	if f32-f16 != int64(2*n*d) || float64(f16) > 0.6*float64(f32) {
		t.Errorf("a half-precision bank and its index hold %d bytes, float32 %d", f16, f32)
	}
}
