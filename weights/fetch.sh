#!/usr/bin/env sh
# Downloads ImageNet classifiers from the ONNX model zoo into this folder.
# Tessera finds their stride-8 and stride-16 stage outputs by itself.
set -eu
cd "$(dirname "$0")"
base=https://github.com/onnx/models/raw/main/validated/vision/classification
fetch() {
	if [ -f "$1" ]; then echo "$1: already here"; return; fi
	echo "fetching $1"
	curl -fL --retry 3 -o "$1.part" "$2" && mv "$1.part" "$1"
}
fetch resnet50-v2-7.onnx "$base/resnet/model/resnet50-v2-7.onnx"
fetch mobilenetv2-7.onnx "$base/mobilenet/model/mobilenetv2-7.onnx"
