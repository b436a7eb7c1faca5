"""常用图：曲线、训练历史、图像网格。所有函数都返回 Figure，方便测试和保存。"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dlzh.plot.style import ensure_style

if TYPE_CHECKING:  # 只用于类型注解：绘图不在运行时依赖训练部分（按页的缓存键因此更精确）
    from dlzh.train.history import History

# 历史记录里的键 -> 图例中的中文名称
HISTORY_LABELS = {
    "train_loss": "训练损失",
    "test_loss": "测试损失",
    "train_acc": "训练准确率",
    "test_acc": "测试准确率",
}


def _to_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def plot_lines(
    x,
    ys: Sequence | dict[str, Sequence],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
    figsize: tuple[float, float] | None = None,
    styles: Sequence[str] | None = None,
) -> Figure:
    """画一条或多条曲线。``ys`` 是 ``{图例: y 值}`` 字典，或单个 y 序列。"""
    ensure_style()
    series = ys if isinstance(ys, dict) else {"": ys}
    fig, ax = plt.subplots(figsize=figsize)
    x_values = _to_numpy(x) if x is not None else None
    for i, (label, y) in enumerate(series.items()):
        y_values = _to_numpy(y)
        xs = x_values if x_values is not None else np.arange(1, len(y_values) + 1)
        style = styles[i] if styles else "-"
        ax.plot(xs, y_values, style, label=label or None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    if any(series):
        ax.legend()
    fig.tight_layout()
    return fig


def plot_history(history: History, title: str = "", keys: Sequence[str] | None = None) -> Figure:
    """把 ``fit`` 返回的历史画成随 epoch 变化的曲线（损失与准确率共用一张图，与 d2l 一致）。"""
    keys = keys or [k for k in HISTORY_LABELS if k in history.keys()]
    epochs = history["epoch"]
    series = {HISTORY_LABELS.get(k, k): history[k] for k in keys}
    styles = ["-", "--", "-.", ":"][: len(series)]
    fig = plot_lines(epochs, series, xlabel="迭代周期 (epoch)", title=title, styles=styles)
    fig.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))  # epoch 只取整数刻度
    return fig


def show_images(
    images: torch.Tensor | Sequence,
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.3,
    cmap: str = "gray",
) -> Figure:
    """把一批图像排成网格。接受 ``(N, H, W)``、``(N, 1, H, W)`` 或 ``(N, 3, H, W)``。"""
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale * 1.15)
    )
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(images):
            continue
        image = _to_numpy(images[i])
        if image.ndim == 3 and image.shape[0] in (1, 3):
            image = image.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig
