"""Export a torchvision ImageNet backbone to ONNX, cut after layer3.

usage: python3 export_torchvision.py NAME [OUT.onnx]
NAME is a torchvision model: wide_resnet50_2 (the PatchCore paper's), resnet18,
resnet50, mobilenet_v2, ... The graph has one input `data` [N,3,224,224] and two
outputs `layer2` (stride 8) and `layer3` (stride 16).
"""
import sys

import torch
import torchvision


class Cut(torch.nn.Module):
    """Runs a backbone up to its stride-16 stage and returns two stages."""

    def __init__(self, name):
        super().__init__()
        net = getattr(torchvision.models, name)(weights="DEFAULT").eval()
        if hasattr(net, "layer3"):  # ResNet family
            self.stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1)
            self.l2, self.l3 = net.layer2, net.layer3
        elif hasattr(net, "features"):  # MobileNetV2: blocks up to stride 8, then stride 16
            f = net.features
            self.stem, self.l2, self.l3 = f[:4], f[4:7], f[7:14]
        else:
            raise SystemExit(f"{name}: do not know where its stages are")

    def forward(self, x):
        a = self.l2(self.stem(x))
        return a, self.l3(a)


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "wide_resnet50_2"
    out = sys.argv[2] if len(sys.argv) > 2 else f"{name}-layer3.onnx"
    model = Cut(name).eval()
    torch.onnx.export(
        model, torch.randn(1, 3, 224, 224), out, opset_version=13,
        input_names=["data"], output_names=["layer2", "layer3"],
        dynamic_axes={"data": {0: "N"}, "layer2": {0: "N"}, "layer3": {0: "N"}},
        do_constant_folding=True,
    )
    print(out)


if __name__ == "__main__":
    main()
