"""Item encoders: an image or an object table becomes a set of "object" vectors.

CURI's baselines (curi.md §8) encode an item as a set of objects and pool the set with a head
(:mod:`agents.neural.pooling`). An object table already is such a set (one row per object, a
1x1 Conv1d stack 19 -> 57 -> 96 as in CURI's schema encoder); an image becomes the cells of a
convolutional feature map, each cell an "object" with its position.

Two image trunks, chosen by option, both trained from scratch (no downloaded weights):

* ``resnet18`` — torchvision's ResNet-18 layout cut after ``layer3`` (256 channels, stride 16),
  as CURI does, written here in plain torch because PyPI torchvision does not import beside
  this torch build;
* ``conv4`` — four 3x3 conv/BatchNorm/ReLU blocks (32-64-64-64 channels, stride 8), about 40x
  cheaper, sized for training on two CPU cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

IMAGE_TRUNKS = ("resnet18", "conv4")


class BasicBlock(nn.Module):
    """ResNet's two-conv residual block (torchvision ``BasicBlock``)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18Layer3(nn.Module):
    """ResNet-18 up to and including ``layer3``: conv1 7x7/2, max-pool /2, layers 1-3 (64, 128, 256)."""

    out_channels = 256
    stride = 16

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))


class Conv4(nn.Module):
    """Four conv3x3-BN-ReLU blocks with strides 2, 2, 2, 1: a CPU-sized trunk (stride 8)."""

    out_channels = 64
    stride = 8

    def __init__(self, channels: tuple[int, ...] = (32, 64, 64, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c_out, stride in zip(channels, (2, 2, 2, 1)):
            layers += [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.out_channels = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def feature_map_shape(trunk: str, image_shape: tuple[int, int]) -> tuple[int, int]:
    """The (rows, cols) of a trunk's feature map for an image of ``image_shape`` pixels."""
    h, w = image_shape
    if trunk == "resnet18":
        for _ in range(4):  # conv1, max-pool, layer2, layer3: each (n + 1) // 2 with these paddings
            h, w = (h + 1) // 2, (w + 1) // 2
        return h, w
    if trunk == "conv4":
        for _ in range(3):
            h, w = (h + 1) // 2, (w + 1) // 2
        return h, w
    raise ValueError(f"unknown image trunk {trunk!r}; expected one of {list(IMAGE_TRUNKS)}")


@dataclass(frozen=True)
class ObjectSet:
    """A batch of items as object sets: ``features (B, N, D)``, ``mask (B, N)`` bool, and for
    image cells their ``positions (B, N, 2)`` in [0, 1] (None for object tables, whose
    coordinates are columns of the features)."""

    features: torch.Tensor
    mask: torch.Tensor
    positions: torch.Tensor | None = None


class ImageCells(nn.Module):
    """Image -> trunk feature map -> CURI's 1x1 projection to 64 channels -> cells as objects.

    CURI projects the 256-channel ResNet map with a 1x1 conv of stride (1, 2) to 128 channels,
    ReLU, and a 1x1 conv to 64; each cell then gets a one-hot code of its row and column.
    ``position_codes=False`` leaves the codes out (the relation head uses relative positions).
    """

    def __init__(self, trunk: str, image_shape: tuple[int, int], position_codes: bool = True) -> None:
        super().__init__()
        if trunk == "resnet18":
            self.trunk: nn.Module = ResNet18Layer3()
        elif trunk == "conv4":
            self.trunk = Conv4()
        else:
            raise ValueError(f"unknown image trunk {trunk!r}; expected one of {list(IMAGE_TRUNKS)}")
        rows, cols = feature_map_shape(trunk, image_shape)
        stride = (1, 2) if trunk == "resnet18" and cols > rows else (1, 1)  # CURI: 10x15 -> 10x8
        self.project = nn.Sequential(
            nn.Conv2d(self.trunk.out_channels, 128, 1, stride), nn.ReLU(inplace=True), nn.Conv2d(128, 64, 1)
        )
        rows, cols = rows, (cols + stride[1] - 1) // stride[1]
        self.grid = (rows, cols)
        self.position_codes = position_codes
        self.out_dim = 64 + (rows + cols if position_codes else 0)
        r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
        codes = torch.cat([nn.functional.one_hot(r.flatten(), rows), nn.functional.one_hot(c.flatten(), cols)], dim=1)
        self.register_buffer("codes", codes.float(), persistent=False)
        centres = torch.stack([(r.flatten() + 0.5) / rows, (c.flatten() + 0.5) / cols], dim=1)
        self.register_buffer("centres", centres.float(), persistent=False)

    def forward(self, images: torch.Tensor) -> ObjectSet:
        """``images (B, 3, H, W)`` uint8 or float in 0..255."""
        x = images.float() / 127.5 - 1.0
        cells = self.project(self.trunk(x)).flatten(2).transpose(1, 2)  # (B, rows*cols, 64)
        b, n = cells.shape[:2]
        if self.position_codes:
            cells = torch.cat([cells, self.codes.expand(b, n, -1)], dim=-1)
        mask = torch.ones(b, n, dtype=torch.bool, device=cells.device)
        return ObjectSet(cells, mask, self.centres.expand(b, n, 2))


class SchemaObjects(nn.Module):
    """CURI's schema encoder: a per-object 1x1 Conv1d stack, ``width -> 57 -> 96`` channels."""

    def __init__(self, width: int, hidden: tuple[int, ...] = (57, 96)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = width
        for i, c_out in enumerate(hidden):
            layers.append(nn.Conv1d(c_in, c_out, 1))
            if i < len(hidden) - 1:
                layers.append(nn.ReLU(inplace=True))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.width = width
        self.out_dim = c_in

    def forward(self, objects: torch.Tensor, mask: torch.Tensor) -> ObjectSet:
        """``objects (B, K, F)`` float, ``mask (B, K)``; padded rows are zeroed before encoding."""
        valid = mask.bool()
        x = objects.float() * valid.unsqueeze(-1)
        features = self.body(x.transpose(1, 2)).transpose(1, 2)
        return ObjectSet(features, valid)
