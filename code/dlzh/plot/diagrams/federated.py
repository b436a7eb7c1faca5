"""联邦学习的示意图：一轮 FedAvg（服务器、被抽中的客户端、本地训练、加权平均）。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import _arrow, _box, _canvas

__all__ = ["fedavg_round"]

SEND = "#3d85c6"  # 服务器发出的全局参数
RETURN = "#e69138"  # 客户端传回的本地参数


def fedavg_round(
    sizes: Sequence[int] = (600, 590, 612, 580, 600, 603, 599, 611, 598, 607),
    chosen: Sequence[int] = (1, 4, 8),
    *,
    epochs: int = 5,
    batch_size: int = 10,
) -> Figure:
    """一轮联邦平均：服务器把全局参数发给被抽中的客户端（蓝色），它们各自在本地数据上训练
    ``epochs`` 个迭代周期后传回参数（橙色），服务器按样本数 :math:`n_k` 加权平均。

    ``sizes`` 是各客户端的样本数，``chosen`` 是本轮被抽中的客户端；页面传入真实划分和一次
    真实抽样的结果，图上的权重 :math:`n_k/n` 由它们算出。
    """
    if not chosen or any(not 0 <= k < len(sizes) for k in chosen):
        raise ValueError("chosen 必须是 sizes 的有效下标且非空。 / chosen must index sizes.")
    gap = 1.9
    width = gap * len(sizes)
    fig, ax = _canvas((-0.4, width + 0.2), (-2.2, 4.3), scale=0.6)
    mid = (width - gap) / 2
    total = sum(sizes[k] for k in chosen)
    _box(ax, mid, 3.4, "服务器：全局模型 $w_t$", kind="norm", w=4.6, h=0.8, fontsize=11)
    ax.text(
        mid,
        2.75,
        "$w_{t+1}=\\sum_{k\\in S_t} \\frac{n_k}{n}\\, w_{t+1}^k$，"
        f"$n={'+'.join(str(sizes[k]) for k in chosen)}={total}$",
        ha="center",
        va="top",
        fontsize=9.5,
    )
    for k, n_k in enumerate(sizes):
        x = gap * k
        picked = k in chosen
        _box(
            ax,
            x,
            0.0,
            f"客户端 {k + 1}",
            kind="fc" if picked else "input",
            w=1.6,
            h=0.7,
            fontsize=9,
        )
        ax.text(x, -0.5, f"$n_{{{k + 1}}}$={n_k}", ha="center", va="top", fontsize=8.5)
        if not picked:
            ax.text(x, 0.55, "本轮不参与", ha="center", va="bottom", fontsize=7.5, color="#888888")
            continue
        _arrow(ax, (mid - 0.15, 3.0 - 0.45), (x - 0.2, 0.35), color=SEND, lw=1.4)
        _arrow(ax, (x + 0.2, 0.35), (mid + 0.15, 3.0 - 0.45), color=RETURN, lw=1.4)
        ax.text(
            x, -1.05, f"权重 {n_k / total:.3f}", ha="center", va="top", fontsize=8.5, color=RETURN
        )
    ax.text(
        mid,
        -1.7,
        f"被抽中的客户端（彩色）从 $w_t$ 出发，在本地数据上以批量 {batch_size} 训练 {epochs} 个"
        "迭代周期，只传回参数、不传数据",
        ha="center",
        va="top",
        fontsize=9,
    )
    return fig
