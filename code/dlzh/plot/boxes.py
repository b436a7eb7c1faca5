"""在图像上画边界框：目标检测几页把真实框、锚框和预测框直接画在照片上。

框用角点表示 ``(x1, y1, x2, y2)``，单位与图像的像素坐标相同（相对坐标先乘以图像宽高）。
每个矩形带 ``gid="dlzh-bbox"``，测试据此数框。
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dlzh.plot.style import ensure_style

__all__ = ["bbox_to_rect", "show_bboxes", "show_image"]

BOX_COLORS = ("b", "g", "r", "m", "c")


def bbox_to_rect(bbox: Sequence[float] | torch.Tensor, color: str) -> Rectangle:
    """角点表示的框 -> Matplotlib 的矩形（左上角、宽、高），不填充。"""
    x1, y1, x2, y2 = (float(v) for v in bbox)
    return Rectangle(
        (x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, linewidth=2, gid="dlzh-bbox"
    )


def show_image(image, scale: float = 3.5) -> tuple[Figure, Axes]:
    """显示一张图像（``(H, W, 3)`` 数组、PIL 图像或 ``(3, H, W)`` 张量），返回 ``(fig, ax)``，不带坐标轴。"""
    ensure_style()
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.ndim == 3 and image.shape[0] in (1, 3):
            image = image.permute(1, 2, 0)
        image = image.numpy()
    array = np.asarray(image)
    h, w = array.shape[:2]
    fig, ax = plt.subplots(figsize=(scale * w / max(h, w), scale * h / max(h, w)))
    ax.imshow(array)
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig, ax


def show_bboxes(
    ax: Axes,
    bboxes: torch.Tensor | Sequence[Sequence[float]],
    labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
) -> list[Rectangle]:
    """在 ``ax`` 上画出一组框，``labels`` 写在框的左上角。颜色按 ``colors`` 循环使用。"""
    colors = list(colors) if colors else list(BOX_COLORS)
    rects = []
    for i, bbox in enumerate(bboxes):
        color = colors[i % len(colors)]
        rect = bbox_to_rect(bbox, color)
        ax.add_patch(rect)
        rects.append(rect)
        if labels is not None and i < len(labels):
            text_color = "k" if color == "w" else "w"
            ax.text(
                rect.xy[0],
                rect.xy[1],
                labels[i],
                va="center",
                ha="center",
                fontsize=9,
                color=text_color,
                bbox=dict(facecolor=color, lw=0),
            )
    return rects
