#!/usr/bin/env bash
# Makes .gpubench/: what tools/gpubench/run.sh needs on a GPU machine with
# no Go, no network and perhaps no Vulkan loader. Run here, where Go and
# apt work; then carry .gpubench/ with the working tree.
#
#   tools/gpubench/kit.sh [--weights DIR] [--data CATEGORY]
#
# --weights copies ResNet-50 v2 and its golden outputs from DIR (the
# default model and its golden copies are in the repository already);
# --data copies an MVTec category to .gpubench/data/. A carried tree must
# stay under 64 MiB: the ResNet weights and a category do not fit together
# (33 + 21 MiB beside the tree's 14), so take them in two runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.gpubench
weights=""
data=""
while [ $# -gt 0 ]; do
	case $1 in
	--weights) weights=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	*) echo "kit.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
rm -rf "$kit"
mkdir -p "$kit/bin" "$kit/debs"
go build -trimpath -ldflags='-s -w' -o "$kit/bin/gpubench" ./tools/gpubench
xz -6 -f "$kit/bin/gpubench"
(cd "$kit/debs" && apt-get download libvulkan1 >/dev/null)
if [ -n "$weights" ]; then
	mkdir -p "$kit/weights/golden"
	cp "$weights/resnet50v2-layer3.onnx" "$kit/weights/"
	cp -r "$weights/golden/resnet50v2" "$kit/weights/golden/"
fi
if [ -n "$data" ]; then
	mkdir -p "$kit/data"
	cp -r "$data" "$kit/data/"
fi
tree=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
size=$(du -sb "$kit" | cut -f1)
echo "kit.sh: $kit is $((size >> 20)) MiB, the tracked tree $((tree >> 20)) MiB: $(((size + tree) >> 20)) of 64 MiB"
[ $((size + tree)) -lt $((64 << 20)) ] || { echo "kit.sh: too large to carry; leave out --data or --weights" >&2; exit 1; }
