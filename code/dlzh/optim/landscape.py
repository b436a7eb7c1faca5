"""二维目标函数和优化轨迹：把优化器放在同一个“地形”上比较它们怎么走。"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim import Optimizer

Objective2D = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def ill_conditioned_quadratic(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """:math:`f(x_1, x_2) = 0.1 x_1^2 + 2 x_2^2`：两个方向的曲率相差 20 倍（d2l 使用的例子）。"""
    return 0.1 * x1**2 + 2 * x2**2


def rosenbrock(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """Rosenbrock 函数 :math:`(1-x_1)^2 + 100 (x_2 - x_1^2)^2`：弯曲的狭长山谷，最小值在 (1, 1)。"""
    return (1 - x1) ** 2 + 100 * (x2 - x1**2) ** 2


def optimize_2d(
    make_optimizer: Callable[[list[torch.Tensor]], Optimizer],
    f: Objective2D,
    start: tuple[float, float],
    steps: int,
) -> torch.Tensor:
    """从 ``start`` 出发用优化器最小化 ``f``，返回轨迹 ``(steps + 1, 2)``。

    ``make_optimizer`` 接收参数列表，例如 ``lambda p: torch.optim.Adam(p, lr=0.1)``。
    """
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([x])
    path = [x.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x[0], x[1]).backward()
        optimizer.step()
        path.append(x.detach().clone())
    return torch.stack(path)  # (steps + 1, 2)
