package main

import (
	"flag"

	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
)

// patchcoreFlags are the PatchCore settings fit and eval share.
type patchcoreFlags struct {
	coreset   float64
	k         int
	holdout   float64
	quantile  float64
	seed      uint64
	dim       int
	search    string
	threshold float64
	precision string
}

func (p *patchcoreFlags) register(fs *flag.FlagSet) {
	d := patchcore.Default()
	fs.Float64Var(&p.coreset, "coreset", d.Coreset.Fraction, "fraction of patches kept in the memory bank (0.1, 0.01, or 1 for all)")
	fs.IntVar(&p.k, "k", d.K, "nearest bank vectors averaged per patch score")
	fs.Float64Var(&p.holdout, "holdout", d.Holdout, "fraction of training images held out to set the threshold")
	fs.Float64Var(&p.quantile, "quantile", d.Quantile, "quantile of held-out scores used as threshold")
	fs.Uint64Var(&p.seed, "seed", 0, "seed for the coreset's random projection and starting points")
	fs.IntVar(&p.dim, "dim", d.Embed.TargetDim, "patch vector size (per-layer and final)")
	fs.StringVar(&p.search, "search", string(patchcore.SearchAuto), searchUsage)
	fs.Float64Var(&p.threshold, "threshold", 0, "decision threshold set by hand (default: from the held-out images)")
	fs.StringVar(&p.precision, "bank-precision", bank.F32, "how the bank file stores its vectors: f32, or f16 (half the file; scores still computed in float32)")
}

// searchUsage documents --search, shared by the commands that score.
const searchUsage = "nearest-neighbour search: auto (pruned on the CPU, brute force on a GPU), exact (pruned), or brute; all give the same scores"

func (p *patchcoreFlags) config() patchcore.Config {
	c := patchcore.Default()
	c.Coreset.Fraction, c.Coreset.Seed = p.coreset, p.seed
	c.K, c.Holdout, c.Quantile = p.k, p.holdout, p.quantile
	c.Embed.PretrainDim, c.Embed.TargetDim = p.dim, p.dim
	c.Search = patchcore.Search(p.search)
	c.Threshold = p.threshold
	c.BankPrecision = p.precision
	return c
}
