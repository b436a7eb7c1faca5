"""扩散模型的示意图：前向加噪链与反向去噪链。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import _arrow, _box, _canvas

__all__ = ["diffusion_chain"]

FORWARD = "#333333"
REVERSE = "#3d85c6"


def _linear_alpha_bar(t: int, num_steps: int) -> float:
    """线性调度（论文的 1e-4..0.02 按 1000/T 缩放）下的 ᾱ_t；与 dlzh.diffusion 的调度相同。

    plot 不导入 dlzh.diffusion（那里依赖训练循环），这里用同一个公式算几项，测试对照两者。
    """
    scale = 1000 / num_steps
    start, end = scale * 1e-4, scale * 0.02
    prod = 1.0
    for s in range(t):
        beta = start + (end - start) * s / (num_steps - 1) if num_steps > 1 else start
        prod *= 1 - beta
    return prod


def diffusion_chain(num_steps: int = 1000, t: int = 500) -> Figure:
    """马尔可夫链 x_0 → … → x_{t-1} → x_t → … → x_T：上方的黑色箭头是前向加噪 q，
    下方的蓝色箭头是反向去噪 p_θ。每个节点下写出 :math:`\\sqrt{\\bar\\alpha_t}`（x_t 中还剩多少
    原始信号），由线性调度算出。
    """
    if not 1 < t < num_steps:
        raise ValueError(f"需要 1 < t < num_steps，收到 t={t}, num_steps={num_steps}")
    nodes = [
        ("$\\mathbf{x}_0$", 0),
        ("$\\mathbf{x}_{t-1}$", t - 1),
        ("$\\mathbf{x}_t$", t),
        ("$\\mathbf{x}_T$", num_steps),
    ]
    gap = 3.4
    fig, ax = _canvas((-1.2, gap * 3 + 1.2), (-2.3, 2.2))
    for i, (label, step) in enumerate(nodes):
        x = gap * i
        _box(ax, x, 0.0, label, kind="input", w=1.3, h=0.8, fontsize=12)
        signal = math.sqrt(_linear_alpha_bar(step, num_steps))
        ax.text(
            x, -0.6, f"$\\sqrt{{\\bar\\alpha}}$={signal:.3f}", ha="center", va="top", fontsize=8.5
        )
    ax.text(0.0, 0.75, "数据", ha="center", va="bottom", fontsize=9)
    ax.text(gap * 3, 0.75, "纯噪声", ha="center", va="bottom", fontsize=9)
    for i in range(3):
        x0, x1 = gap * i + 0.7, gap * (i + 1) - 0.7
        dotted = i != 1  # 中间两节之间是相邻的一步，两头各省略了许多步
        style = ":" if dotted else "-"
        _arrow(ax, (x0, 0.2), (x1, 0.2), style=style, connection="arc3,rad=-0.35")
        _arrow(ax, (x1, -0.2), (x0, -0.2), style=style, color=REVERSE, connection="arc3,rad=-0.35")
    mid = gap * 1.5
    ax.text(mid, 1.25, "$q(\\mathbf{x}_t\\mid\\mathbf{x}_{t-1})$", ha="center", fontsize=10)
    ax.text(
        mid,
        -1.45,
        "$p_\\theta(\\mathbf{x}_{t-1}\\mid\\mathbf{x}_t)$",
        ha="center",
        fontsize=10,
        color=REVERSE,
    )
    ax.text(
        gap * 1.5,
        -2.1,
        f"黑色：前向过程逐步加噪（固定，无参数）；蓝色：反向过程逐步去噪（学习）；T={num_steps}",
        ha="center",
        fontsize=9,
    )
    return fig
