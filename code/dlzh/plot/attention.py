"""注意力权重的热图：一个或一组 (查询, 键) 矩阵，每格的颜色深浅表示权重大小。

注意力权重矩阵的第 i 行是第 i 个查询分给各个键的权重（非负、和为 1），画成热图最直观：
一行里颜色最深的格子就是这个查询“看”得最多的键。多头注意力或多层的权重是一组矩阵，
按 (行, 列) 排成子图网格，共用一个颜色条，颜色才可以互相比较。
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from dlzh.plot.style import ensure_style

__all__ = ["show_heatmaps"]


def _as_grid(matrices) -> np.ndarray:
    """二维、三维或四维的输入统一成 ``(行数, 列数, 查询数, 键数)`` 的数组。"""
    if isinstance(matrices, torch.Tensor):
        array = matrices.detach().cpu().double().numpy()
    else:
        array = np.asarray(matrices, dtype=float)
    if array.ndim == 2:  # 一个矩阵
        return array[None, None]
    if array.ndim == 3:  # 一排矩阵（例如各个头）
        return array[None]
    if array.ndim == 4:
        return array
    raise ValueError(
        f"需要二维到四维的注意力权重，收到形状 {array.shape} / "
        "expected a 2-D, 3-D or 4-D array of attention weights"
    )


def show_heatmaps(
    matrices,
    *,
    xlabel: str = "键",
    ylabel: str = "查询",
    titles: Sequence[str] | None = None,
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    cmap: str = "Reds",
    vmin: float | None = 0.0,
    vmax: float | None = None,
) -> Figure:
    """画注意力权重的热图，返回 ``Figure``。

    ``matrices`` 的形状可以是 ``(查询数, 键数)``、``(列数, 查询数, 键数)``（一排子图）或
    ``(行数, 列数, 查询数, 键数)``（d2l 的 ``show_heatmaps`` 的约定）。所有子图共用一个颜色
    范围：默认从 0（权重的下限）到所有矩阵的最大值，这样不同子图的深浅可以直接比较。
    ``titles`` 给每一列一个标题；``xticklabels``/``yticklabels`` 给键和查询标上词元等名字。
    """
    ensure_style()
    grid = _as_grid(matrices)
    num_rows, num_cols, num_q, num_k = grid.shape
    if titles is not None and len(titles) != num_cols:
        raise ValueError(
            f"titles 有 {len(titles)} 个，但有 {num_cols} 列子图 / one title per column"
        )
    top = float(grid.max()) if vmax is None else vmax
    if figsize is None:
        side = min(3.0, max(1.6, 0.25 * max(num_q, num_k)))
        figsize = (side * num_cols * num_k / max(num_q, num_k) + 1.0, side * num_rows)
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=figsize, squeeze=False, sharex=True, sharey=True
    )
    image = None
    for i in range(num_rows):
        for j in range(num_cols):
            ax = axes[i, j]
            image = ax.imshow(grid[i, j], cmap=cmap, vmin=vmin, vmax=top, aspect="auto")
            ax.grid(False)  # 全书样式的网格线会盖在格子上
            if i == num_rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
            if titles is not None and i == 0:
                ax.set_title(titles[j])
            if xticklabels is not None:
                ax.set_xticks(range(num_k), list(xticklabels), rotation=90)
            if yticklabels is not None:
                ax.set_yticks(range(num_q), list(yticklabels))
    fig.colorbar(image, ax=axes, shrink=0.6)
    return fig
