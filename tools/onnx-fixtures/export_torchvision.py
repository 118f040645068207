#!/usr/bin/python3
"""Export torchvision-style CNNs with random weights to ONNX, for the importer's parity tests.

Nothing is downloaded: every model is built from torchvision's definitions (Debian's python3-torchvision)
with weights drawn from a fixed seed, then exported by Debian's python3-torch (1.13) at the opset named in
the table below. BatchNorm statistics are randomised too, so a wrong mean or variance would show.

usage: /usr/bin/python3 tools/onnx-fixtures/export_torchvision.py OUT_DIR [NAME ...]
       /usr/bin/python3 tools/onnx-fixtures/export_torchvision.py --list

Each NAME.onnx gets a sidecar NAME.json: the opset, the input shape, whether the batch is dynamic, and
the torch version that exported it.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm


class XrvStyleDenseNet(nn.Module):
    """A DenseNet-121 laid out as TorchXRayVision's: one input channel, and a forward that flattens with
    view(N, -1) (which exporters emit as Shape/Gather/Unsqueeze/Concat/Reshape) before an 18-way classifier."""

    def __init__(self):
        super().__init__()
        base = tvm.densenet121(weights=None)
        base.features.conv0 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.features = base.features
        self.classifier = nn.Linear(1024, 18)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1)).view(features.size(0), -1)
        return self.classifier(out)


def vgg11_bn_small():
    """VGG-11 with BatchNorm; torchvision's layers, with a narrower classifier so the file stays small."""
    model = tvm.vgg11_bn(weights=None)
    model.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, 10))
    return model


# name: (constructor, opset, input shape, dynamic batch)
MODELS = {
    "resnet50-op11": (lambda: tvm.resnet50(weights=None), 11, (1, 3, 224, 224), True),
    "densenet121-op13": (lambda: tvm.densenet121(weights=None), 13, (1, 3, 224, 224), True),
    "xrv-densenet121-op11": (XrvStyleDenseNet, 11, (1, 1, 224, 224), False),
    "mobilenet_v2-op11": (lambda: tvm.mobilenet_v2(weights=None), 11, (1, 3, 224, 224), True),
    "mobilenet_v3_small-op13": (lambda: tvm.mobilenet_v3_small(weights=None), 13, (1, 3, 224, 224), True),
    "mobilenet_v3_large-op14": (lambda: tvm.mobilenet_v3_large(weights=None), 14, (1, 3, 224, 224), False),
    "efficientnet_b0-op13": (lambda: tvm.efficientnet_b0(weights=None), 13, (1, 3, 224, 224), True),
    "convnext_tiny-op13": (lambda: tvm.convnext_tiny(weights=None), 13, (1, 3, 224, 224), True),
    "convnext_tiny-op17": (lambda: tvm.convnext_tiny(weights=None), 17, (1, 3, 224, 224), True),
    "vgg11_bn-op12": (vgg11_bn_small, 12, (1, 3, 224, 224), True),
    "inception_v3-op11": (lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=False), 11, (1, 3, 299, 299), True),
}


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
        # ConvNeXt's layer scale starts at 1e-6, which would hide its blocks: make it matter.
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.1, 0.5)


def export(name, out_dir):
    build, opset, shape, dynamic = MODELS[name]
    model = build()
    randomise(model, seed=17)
    model.eval()
    path = os.path.join(out_dir, name + ".onnx")
    x = torch.rand(*shape)
    axes = {"input": {0: "N"}, "logits": {0: "N"}} if dynamic else None
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes=axes, do_constant_folding=True)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump({"name": name, "opset": opset, "input": list(shape), "dynamicBatch": dynamic, "torch": torch.__version__}, f)
    return path


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(MODELS))
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in argv[2:] or list(MODELS):
        print(export(name, out_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
