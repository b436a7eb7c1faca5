"""二维玩具数据与样本分布的距离：S 形曲线点云和能量距离。

S 形曲线就是 scikit-learn 的 ``make_s_curve`` 三维曲面在 (x, z) 平面上的投影：
参数 :math:`u\\in[-3\\pi/2, 3\\pi/2]`，:math:`x=\\sin u`，:math:`z=\\operatorname{sign}(u)(\\cos u-1)`。
本书不为几行公式依赖 scikit-learn，直接用 torch 生成。
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["energy_distance", "s_curve"]


def s_curve(n: int, noise: float = 0.05, seed: int = 0) -> Tensor:
    """``n`` 个 S 形曲线上的点，形状 ``(n, 2)``，加上标准差 ``noise`` 的高斯扰动。

    坐标范围约为 x∈[-1, 1]、z∈[-2, 2]；由 ``seed`` 完全决定。
    """
    g = torch.Generator().manual_seed(seed)
    u = 3 * math.pi * (torch.rand(n, generator=g, dtype=torch.float64) - 0.5)  # (n,)
    points = torch.stack([torch.sin(u), torch.sign(u) * (torch.cos(u) - 1)], dim=1)  # (n, 2)
    points = points + noise * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return points.float()


def energy_distance(x: Tensor, y: Tensor) -> float:
    """两组样本之间的能量距离的平方：:math:`2E\\|X-Y\\|-E\\|X-X'\\|-E\\|Y-Y'\\|`。

    两个分布相同时它为 0，否则为正（Székely 与 Rizzo）。这里用包含对角线的平均（V 统计量），
    所以总是非负；两组样本完全一样时恰好为 0。
    """
    x, y = x.double().flatten(1), y.double().flatten(1)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).mean()
    yy = torch.cdist(y, y).mean()
    return float(2 * xy - xx - yy)
