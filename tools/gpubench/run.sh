#!/usr/bin/env bash
# Measures the WebGPU backend on this machine's GPU beside its CPU backend,
# in under five minutes, installing nothing from the network: the golden
# outputs through WebGPU, matrix products (1024^3, 4096x1024x1024,
# 8192x1024x8192), both shared backbones at batch 1, 8 and 32, how often
# to submit kernels, brute-force search in a 50k-vector bank, and a fit
# and predict of an MVTec category on both backends. Every figure goes to
# $OUT/gpubench.json (OUT defaults to out/gpubench), the log beside it.
#
#   tools/gpubench/run.sh [--software] WEIGHTS [CATEGORY]
#
# WEIGHTS is the shared weights folder (its models and golden/); the
# repository's default model and golden copies fill in what it lacks.
# --software accepts a software adapter (lavapipe) with fewer runs and
# smaller work: a check of the script, not figures. PARTS (comma list of
# golden,gemm,backbone,submit,search,eval) runs only those; EVAL_MODEL
# names the eval's model (default ResNet-50 v2).
#
# On a machine without Go or a Vulkan loader, run tools/gpubench/kit.sh
# here first and carry .gpubench/ along: it holds the built program and
# the loader's packages, unpacked into .gpubench/root (not /) here.
set -euo pipefail
cd "$(dirname "$0")/../.."

software=()
if [ "${1:-}" = --software ]; then
	software=(--allow-software --quick --batches 1,4 --eval-model mobilenetv2-layer3.onnx --eval-train 40 --eval-test 16)
	shift
fi
weights=${1:?usage: tools/gpubench/run.sh [--software] WEIGHTS [CATEGORY]}
data=${2:-}
out=${OUT:-out/gpubench}
kit=.gpubench
mkdir -p "$out"
log=$out/gpubench.log
: >"$log"
say() { echo "gpubench: $*" | tee -a "$log"; }

# The Vulkan loader, from the packages brought along when the system has
# none (the NVIDIA driver brings the ICD, not the loader).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
	debs=("$kit"/debs/*.deb)
	if [ ! -e "${debs[0]}" ]; then
		say "no Vulkan loader here and none in $kit/debs: run tools/gpubench/kit.sh where apt works"
		exit 1
	fi
	for f in "${debs[@]}"; do dpkg -x "$f" "$kit/root"; done
	export LD_LIBRARY_PATH=$PWD/$kit/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	say "Vulkan loader unpacked from $kit/debs"
fi
# The NVIDIA driver's ICD, where the container mounts it outside the
# loader's search path.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
	for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
		if [ -f "$icd" ]; then
			export VK_DRIVER_FILES=$icd
			say "Vulkan driver: $icd"
			break
		fi
	done
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | tee -a "$log" || true

# The program: carried, or built here.
bin=$kit/bin/gpubench
if [ -f "$bin.xz" ] && [ ! -x "$bin" ]; then
	# xz, or Python's lzma where the image has no xz.
	if command -v xz >/dev/null; then
		xz -dc "$bin.xz" >"$bin.tmp"
	else
		python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$bin.xz" >"$bin.tmp"
	fi
	chmod +x "$bin.tmp" && mv "$bin.tmp" "$bin"
fi
if [ ! -x "$bin" ]; then
	command -v go >/dev/null || { say "no $bin and no Go to build it: run tools/gpubench/kit.sh first"; exit 1; }
	mkdir -p "$kit/bin"
	go build -o "$bin" ./tools/gpubench
fi

args=(--weights "$weights" --out "$out" "${software[@]}")
[ -n "$data" ] && args+=(--data "$data")
[ -n "${PARTS:-}" ] && args+=(--parts "$PARTS")
[ -n "${EVAL_MODEL:-}" ] && args+=(--eval-model "$EVAL_MODEL")
say "running $bin ${args[*]}"
status=0
timeout 295 "$bin" "${args[@]}" 2>&1 | tee -a "$log" || status=$?
[ "$status" = 124 ] && say "stopped at the five-minute limit; what was measured is in $out/gpubench.json"
exit "$status"
