"""优化算法一部分的图：二维目标函数的等高线 + 优化轨迹、各有横坐标的损失曲线、学习率调度曲线。"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlzh.plot.style import ensure_style

Objective2D = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def plot_trajectories_2d(
    f: Objective2D,
    trajectories: dict[str, torch.Tensor],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    levels: int | Sequence[float] = 15,
    title: str = "",
    ax: Axes | None = None,
    markersize: float = 3.0,
    legend: bool = True,
) -> Figure:
    """在 ``f`` 的等高线上画出每条优化轨迹（折线 + 圆点），图例为 ``trajectories`` 的键。

    ``trajectories`` 的值形状为 ``(T, 2)``，例如 :func:`dlzh.optim.optimize_2d` 的返回值。
    发散的轨迹会跑出 ``xlim``/``ylim``：坐标范围固定不变，超出部分被裁掉，
    这样几张图之间可以直接比较。给定 ``ax`` 时画进这个子图（用于拼多张子图），
    返回它所在的 Figure，排版（``fig.tight_layout()``）由调用者在画完所有子图后做一次；
    每个子图只有一条轨迹时，可以用 ``title`` 代替图例（``legend=False``）。
    """
    ensure_style()
    own_figure = ax is None
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.get_figure()
    x1, x2 = torch.meshgrid(
        torch.linspace(*xlim, 200, dtype=torch.float64),
        torch.linspace(*ylim, 200, dtype=torch.float64),
        indexing="xy",
    )  # 两者都是 (200, 200)
    with torch.no_grad():
        z = f(x1, x2)  # (200, 200)
    ax.contour(x1.numpy(), x2.numpy(), z.numpy(), levels=levels, colors="#9aa5b1", linewidths=0.8)
    for label, path in trajectories.items():
        points = np.asarray(path.detach().cpu() if isinstance(path, torch.Tensor) else path)
        points = points.reshape(-1, 2)  # (T, 2)
        ax.plot(points[:, 0], points[:, 1], "-o", markersize=markersize, linewidth=1.2, label=label)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$x_1$", ylabel="$x_2$", title=title)
    if trajectories and legend:
        ax.legend(loc="best", fontsize=9)
    if own_figure:  # 画进别人的子图时，排版留给调用者一次完成（tight_layout 要重绘整张图，很慢）
        fig.tight_layout()
    return fig


def plot_curves(
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """画若干条各有自己横坐标的曲线：``{图例: (x 值, y 值)}``。

    与 :func:`dlzh.plot.plot_lines` 的区别是每条曲线的 x 可以不同，例如“损失-训练用时”：
    批量大小不同，记录损失的时刻也不同。
    """
    ensure_style()
    fig, ax = plt.subplots()
    for label, (xs, ys) in curves.items():
        ax.plot(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if curves:
        ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_schedules(
    schedules: dict[str, Sequence[float]],
    *,
    xlabel: str = "迭代周期 (epoch)",
    ylabel: str = "学习率",
    title: str = "",
    logy: bool = False,
) -> Figure:
    """把若干条学习率调度曲线画在同一张图里（阶梯形的调度用阶梯线画出）。"""
    ensure_style()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for label, values in schedules.items():
        values = np.asarray(values, dtype=float)
        ax.step(np.arange(len(values)), values, where="post", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    if schedules:  # 图例放在坐标区右侧：调度曲线铺满整个横轴，放在里面总会挡住某条曲线
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig
