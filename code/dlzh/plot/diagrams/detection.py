"""目标检测的示意图：SSD 的多尺度预测头、R-CNN 系列的对比。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
SSD 图上每个尺度的特征图高宽和锚框个数来自 :class:`dlzh.models.ssd.TinySSD` 的一次前向计算。
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import _arrow, _box, _canvas, _keeps_rng

__all__ = ["rcnn_family", "ssd_multiscale_heads"]


@_keeps_rng
def ssd_multiscale_heads(image_size: int = 256) -> Figure:
    """TinySSD：5 个模块自下而上逐步减半高宽，每个模块的输出接类别和边界框预测层。

    右侧写出每个尺度的特征图高宽、每个像素的锚框数和这一尺度的锚框总数，都由前向计算得到。
    """
    from dlzh.models.ssd import TinySSD

    net = TinySSD(num_classes=1).eval()
    with torch.no_grad():
        maps = net.feature_maps(torch.zeros(1, 3, image_size, image_size))
        anchors, _, _ = net(torch.zeros(1, 3, image_size, image_size))
    names = ["基础网络块", "高宽减半块", "高宽减半块", "高宽减半块", "全局最大汇聚"]
    step = 1.25
    fig, ax = _canvas((-2.4, 10.6), (-0.8, step * (len(maps) + 1) + 0.6), scale=0.6)
    _box(ax, 0, 0, f"输入图像 3×{image_size}×{image_size}", kind="input", w=3.6)
    total = 0
    for i, (name, fmap) in enumerate(zip(names, maps, strict=True)):
        y = step * (i + 1)
        _arrow(ax, (0, y - step + 0.31), (0, y - 0.31))
        kind = "pool" if i == len(maps) - 1 else "conv"
        c, h, w = fmap.shape[1:]
        _box(ax, 0, y, f"{name}\n{c}×{h}×{w}", kind=kind, w=3.6, h=0.8)
        count = h * w * net.num_anchors[i]
        total += count
        _arrow(ax, (1.8, y), (3.2, y))
        _box(
            ax,
            5.9,
            y,
            f"类别预测 + 边界框预测\n{h}×{w} 像素 × {net.num_anchors[i]} 个锚框 = {count}",
            kind="fc",
            w=5.2,
            h=0.8,
            fontsize=9,
        )
    assert total == anchors.shape[1]  # 图上的锚框总数必须等于模型实际生成的个数
    ax.text(
        5.9,
        step * (len(maps) + 1) - 0.2,
        f"合计 {total} 个锚框（输入 {image_size}×{image_size}）",
        ha="center",
        va="center",
        fontsize=10,
    )
    return fig


_RCNN_FAMILY = (
    (
        "R-CNN",
        [
            ("输入图像", "input"),
            ("选择性搜索\n约 2000 个提议区域", "op"),
            ("每个区域裁剪、缩放", "op"),
            ("卷积神经网络\n（每个区域各算一次）", "conv"),
            ("支持向量机分类\n+ 边界框回归", "fc"),
        ],
    ),
    (
        "Fast R-CNN",
        [
            ("输入图像", "input"),
            ("卷积神经网络\n（整张图只算一次）", "conv"),
            ("选择性搜索的\n提议区域", "op"),
            ("兴趣区域汇聚层", "pool"),
            ("全连接层\n→ 类别 + 边界框", "fc"),
        ],
    ),
    (
        "Faster R-CNN",
        [
            ("输入图像", "input"),
            ("卷积神经网络", "conv"),
            ("区域提议网络\n（锚框 + 非极大值抑制）", "norm"),
            ("兴趣区域汇聚层", "pool"),
            ("全连接层\n→ 类别 + 边界框", "fc"),
        ],
    ),
    (
        "Mask R-CNN",
        [
            ("输入图像", "input"),
            ("卷积神经网络", "conv"),
            ("区域提议网络", "norm"),
            ("兴趣区域对齐层\n（双线性插值）", "pool"),
            ("全连接层 → 类别 + 边界框\n全卷积网络 → 掩码", "fc"),
        ],
    ),
)


def rcnn_family() -> Figure:
    """R-CNN、Fast R-CNN、Faster R-CNN、Mask R-CNN 四列并排：自下而上的处理流程。"""
    col_w, step = 4.4, 1.3
    n_rows = len(_RCNN_FAMILY[0][1])
    fig, ax = _canvas(
        (-0.3, col_w * len(_RCNN_FAMILY) - 0.1), (-0.7, step * n_rows + 0.2), scale=0.55
    )
    for j, (title, items) in enumerate(_RCNN_FAMILY):
        x = col_w * j + col_w / 2 - 0.2
        for i, (text, kind) in enumerate(items):
            y = step * i
            _box(ax, x, y, text, kind=kind, w=3.9, h=0.9, fontsize=8.5)
            if i:
                _arrow(ax, (x, y - step + 0.45), (x, y - 0.45))
        ax.text(
            x, step * n_rows - 0.35, title, ha="center", va="center", fontsize=11, weight="bold"
        )
    return fig
