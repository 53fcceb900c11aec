# Tessera's tasks. Shared models and data are read from SHARED (never
# copied); without it the repository's own weights/ (the default model) and
# site/sample are used, and tests that need more skip with the reason.
SHARED  ?= $(abspath ../shared)
WEIGHTS ?= $(if $(wildcard $(SHARED)/weights/*.onnx),$(SHARED)/weights,$(CURDIR)/weights)
export TESSERA_SHARED  := $(SHARED)
export TESSERA_WEIGHTS := $(WEIGHTS)

GO      ?= go
ADDR    ?= 127.0.0.1:8080

.PHONY: test fuzz vet build site dist serve bench loadtest bench-browser gpubench gpubench-kit ortbench browsertest wasmsimd clean

# Go's Node runner for js/wasm tests, with Tessera's SIMD kernels bound.
WASM_EXEC := $(CURDIR)/tools/wasmexec/go_js_wasm_exec

# The test command: vet, unit and end-to-end tests natively, the core's
# tests again as js/wasm under Node (with relaxed SIMD kernels, and the CPU
# kernels' with SIMD128 and with none), the WebGPU backend's as js/wasm in
# headless Chromium (SwiftShader), and the CPU-only build without cgo.
# TESSERA_REQUIRE_WEBGPU=1 (set by .ci/run, which installs lavapipe)
# turns a missing native adapter from a skip into a failure. deploy/ (its
# own module, for the Kubernetes API types) checks the manifests.
test: vet ortbench browsertest site dist
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -count=1 ./...
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$(WASM_EXEC)" $$(GOOS=js GOARCH=wasm $(GO) list ./core/... | grep -v /compute/webgpu)
	for simd in simd128 off; do TESSERA_SIMD=$$simd GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$(WASM_EXEC)" ./core/compute/cpu/... || exit 1; done
	GOOS=js GOARCH=wasm $(GO) test -count=1 -timeout 20m -exec "$(CURDIR)/tools/browsertest/gotest.mjs" ./core/compute/webgpu
	$(MAKE) fuzz

# Each decoder of outside bytes fuzzed briefly past its committed seeds,
# which go test also runs as regression tests; a crasher found is written
# to the package's testdata/fuzz to commit with its fix. Each runs a count
# of inputs (about 10 s on a 2-core machine), not a duration: Go 1.26's
# fuzzer can fail a -fuzztime duration at its end with "context deadline
# exceeded" and no crasher (golang/go#75804, fixed in Go 1.27; seen here
# on FuzzLoad on 2026-12-01). FUZZTIME=30s or FUZZTIME=5000x sets all five.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(or $(FUZZTIME),500000x) ./core/patchcore/bank
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(or $(FUZZTIME),30000x) ./core/backbone
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTensor$$' -fuzztime $(or $(FUZZTIME),30000x) ./core/onnx
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTensor$$' -fuzztime $(or $(FUZZTIME),200000x) ./core/imageprep
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(or $(FUZZTIME),500000x) ./core/npy

vet:
	$(GO) vet ./...

build:
	$(GO) build -buildvcs=auto -o bin/tessera ./tools/tessera

# The browser build: the engine (run in a Web Worker), the page, and Go's
# wasm_exec.js glue.
site:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags=-s -o site/tessera.wasm ./wasm/worker
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags=-s -o site/page.wasm ./wasm/page
	cp "$(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js" site/wasm_exec.js
	cp $(SIMD)/kernels.wasm site/tessera-simd.wasm
	cp $(SIMD)/kernels_relaxed.wasm site/tessera-simd-relaxed.wasm

# The wasm SIMD kernels: regenerate their text and assemble it (needs
# wabt's wat2wasm); the assembled modules are committed, so users need no
# wabt, and TestAssembled checks that they match their source.
SIMD := core/compute/cpu/wasmsimd
wasmsimd:
	cd $(SIMD) && $(GO) run gen.go
	wat2wasm --enable-relaxed-simd $(SIMD)/kernels.wat -o $(SIMD)/kernels.wasm
	wat2wasm --enable-relaxed-simd $(SIMD)/kernels_relaxed.wat -o $(SIMD)/kernels_relaxed.wasm

# The JS API as an npm package in dist/ (npm install ./dist, or npm pack
# it): the ES module, its worker, the engine, Go's glue and the types.
dist: site
	rm -rf dist && mkdir -p dist
	cp site/tessera.js site/tessera-worker.js site/tessera-simd.js site/tessera.d.ts site/tessera.wasm site/tessera-simd.wasm site/tessera-simd-relaxed.wasm site/wasm_exec.js dist/
	cp site/package/package.json site/package/README.md NOTICE dist/

# The local demo server.
serve: site
	$(GO) run serve.go -addr $(ADDR) -weights $(WEIGHTS)

# Feature-extraction speed: Go benchmarks, then both shared models side by
# side with ONNX Runtime in one run; then the search (brute force and
# pruned) and the coreset (previous and current selector) on real banks of
# the shared sets (extracted once into out/bench).
bench: ortbench
	$(GO) test -run '^$$' -bench 'Kernels' -benchtime 20x ./core/compute/cpu/sgemm
	$(GO) test -run '^$$' -bench 'Backbone' -benchtime 30x ./core/backbone
	$(GO) test -run '^$$' -bench 'GEMM' -benchtime 5x ./core/compute/webgpu
	$(GO) run ./tools/tessera bench --models resnet50v2-layer3.onnx,mobilenetv2-layer3.onnx --runs 30
	$(GO) test -run '^$$' -bench 'Search' -benchtime 20x ./core/patchcore/search
	$(GO) test -run '^$$' -bench 'Select/mvtec' -benchtime 1x -timeout 60m ./core/patchcore/coreset

# The scoring service under load on 127.0.0.1 (tools/loadtest): 1-64
# clients with batching on and off, a soak watching the heap, the fault run.
# The GPU server benchmark (tools/gpubench/run.sh): here on lavapipe, as a
# check of the script (GPUBENCH_FLAGS= on a real GPU). gpubench-kit makes
# .gpubench/ for a machine with no Go, network or Vulkan loader.
GPUBENCH_FLAGS ?= --software
gpubench:
	OUT=out/gpubench tools/gpubench/run.sh $(GPUBENCH_FLAGS) $(WEIGHTS) $(SHARED)/data/mvtec-ad-256/bottle
gpubench-kit:
	tools/gpubench/kit.sh --weights $(WEIGHTS)

loadtest:
	mkdir -p out
	$(GO) run ./tools/loadtest --duration 6s --soak 3m --faults --json out/loadtest.json

# In headless Chromium: GEMM GFLOP/s per wasm kernel (Go, SIMD128,
# relaxed) on one thread; wasm sizes, fit and predict on MVTec bottle, the
# backbone against ONNX Runtime Web in the same browser and on WebGPU; and
# GEMM GFLOP/s on WebGPU.
bench-browser: site browsertest
	GOOS=js GOARCH=wasm $(GO) test -run '^$$' -bench Kernels -benchtime 3x -exec "$(CURDIR)/tools/browsertest/gotest.mjs" ./core/compute/cpu/sgemm
	BENCH_SEARCH=exact node tools/browsertest/bench.mjs site $(WEIGHTS) $(SHARED)/data/mvtec-ad-256/bottle mobilenetv2-layer3.onnx resnet50v2-layer3.onnx
	GOOS=js GOARCH=wasm $(GO) test -run '^$$' -bench GEMM -benchtime 2x -exec "$(CURDIR)/tools/browsertest/gotest.mjs" ./core/compute/webgpu

# ONNX Runtime for Node: the reference for tests and benchmarks only.
ortbench: tools/ortbench/node_modules/onnxruntime-node
tools/ortbench/node_modules/onnxruntime-node:
	npm install --ignore-scripts --no-audit --no-fund --prefix tools/ortbench

# Playwright (driving Debian's Chromium) and ONNX Runtime Web: the browser
# end-to-end test and browser benchmarks only.
browsertest: tools/browsertest/node_modules/playwright-core
tools/browsertest/node_modules/playwright-core:
	npm install --ignore-scripts --no-audit --no-fund --prefix tools/browsertest

clean:
	rm -rf bin dist site/tessera.wasm site/page.wasm site/wasm_exec.js
