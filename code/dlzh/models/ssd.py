"""单发多框检测（SSD）的一个小版本 TinySSD（d2l 的结构）。

网络由 5 个模块组成：基础网络（3 个高宽减半块，通道 16→32→64）、3 个高宽减半块（128 通道），
最后一个全局最大汇聚层把特征图变成 1×1。每个模块的输出特征图都接一个类别预测层和一个
边界框预测层（都是 3×3 卷积，保持高宽），并在这张特征图上生成锚框：前面的特征图大、
锚框小，检测小目标；后面的特征图小、锚框大，检测大目标。这就是“多尺度”。

``forward`` 返回 ``(锚框 (1, N, 4), 类别预测 (B, N, 类别数+1), 偏移量预测 (B, N*4))``。
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from dlzh.vision.anchors import multibox_prior, num_anchors_per_pixel

__all__ = ["SSD_RATIOS", "SSD_SIZES", "TinySSD", "down_sample_blk"]

# d2l 的设置：5 个尺度，缩放比在 0.2～0.88 之间线性增加，每个尺度的第二个缩放比是相邻两个的几何平均
SSD_SIZES = ((0.2, 0.272), (0.37, 0.447), (0.54, 0.619), (0.71, 0.79), (0.88, 0.961))
SSD_RATIOS = ((1.0, 2.0, 0.5),) * 5


def cls_predictor(num_inputs: int, num_anchors: int, num_classes: int) -> nn.Conv2d:
    """类别预测层：每个像素的每个锚框输出 ``类别数+1`` 个对数几率（+1 是背景）。"""
    return nn.Conv2d(num_inputs, num_anchors * (num_classes + 1), kernel_size=3, padding=1)


def bbox_predictor(num_inputs: int, num_anchors: int) -> nn.Conv2d:
    """边界框预测层：每个锚框 4 个偏移量。"""
    return nn.Conv2d(num_inputs, num_anchors * 4, kernel_size=3, padding=1)


def down_sample_blk(in_channels: int, out_channels: int) -> nn.Sequential:
    """两个（3×3 卷积 + 批量归一化 + ReLU），再接步幅 2 的最大汇聚：高宽减半。"""
    layers: list[nn.Module] = []
    for _ in range(2):
        layers += [
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        ]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def _flatten_pred(pred: Tensor) -> Tensor:
    # (B, C, H, W) -> (B, H*W*C)：通道放到最后，同一像素的预测连续排列，与锚框的顺序一致
    return torch.flatten(pred.permute(0, 2, 3, 1), start_dim=1)


class TinySSD(nn.Module):
    """d2l 的 TinySSD：5 个尺度的特征图，每个像素 ``len(sizes)+len(ratios)-1`` 个锚框。"""

    def __init__(
        self,
        num_classes: int = 1,
        sizes: Sequence[Sequence[float]] = SSD_SIZES,
        ratios: Sequence[Sequence[float]] = SSD_RATIOS,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.sizes, self.ratios = [list(s) for s in sizes], [list(r) for r in ratios]
        base = nn.Sequential(
            down_sample_blk(3, 16), down_sample_blk(16, 32), down_sample_blk(32, 64)
        )
        self.blks = nn.ModuleList(
            [
                base,
                down_sample_blk(64, 128),
                down_sample_blk(128, 128),
                down_sample_blk(128, 128),
                nn.AdaptiveMaxPool2d((1, 1)),
            ]
        )
        channels = [64, 128, 128, 128, 128]
        self.num_anchors = [
            num_anchors_per_pixel(s, r) for s, r in zip(self.sizes, self.ratios, strict=True)
        ]
        self.cls_preds = nn.ModuleList(
            cls_predictor(c, a, num_classes)
            for c, a in zip(channels, self.num_anchors, strict=True)
        )
        self.bbox_preds = nn.ModuleList(
            bbox_predictor(c, a) for c, a in zip(channels, self.num_anchors, strict=True)
        )

    def feature_maps(self, X: Tensor) -> list[Tensor]:
        """5 个模块各自输出的特征图（用来看每个尺度的高宽）。"""
        maps = []
        for blk in self.blks:
            X = blk(X)
            maps.append(X)
        return maps

    def forward(self, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        anchors, cls_preds, bbox_preds = [], [], []
        for i, Y in enumerate(self.feature_maps(X)):
            anchors.append(multibox_prior(Y, self.sizes[i], self.ratios[i]))  # (1, h*w*a, 4)
            cls_preds.append(_flatten_pred(self.cls_preds[i](Y)))  # (B, h*w*a*(C+1))
            bbox_preds.append(_flatten_pred(self.bbox_preds[i](Y)))  # (B, h*w*a*4)
        cls = torch.cat(cls_preds, dim=1)  # (B, N*(C+1))
        cls = cls.reshape(cls.shape[0], -1, self.num_classes + 1)  # (B, N, C+1)
        return torch.cat(anchors, dim=1), cls, torch.cat(bbox_preds, dim=1)
