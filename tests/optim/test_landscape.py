"""dlzh.optim.landscape：二维目标函数的值与最小点，以及优化轨迹的形状和走向。"""

from __future__ import annotations

import torch

from dlzh.optim import ill_conditioned_quadratic, optimize_2d, rosenbrock


def test_objectives_have_their_known_minima():
    zero, one = torch.tensor(0.0), torch.tensor(1.0)
    assert ill_conditioned_quadratic(zero, zero) == 0 and rosenbrock(one, one) == 0
    assert ill_conditioned_quadratic(torch.tensor(1.0), zero) == 0.1  # 曲率相差 20 倍
    assert ill_conditioned_quadratic(zero, torch.tensor(1.0)) == 2.0
    assert rosenbrock(zero, zero) == 1.0


def test_trajectory_starts_at_start_and_matches_hand_written_gradient_descent():
    eta, steps = 0.4, 5
    path = optimize_2d(
        lambda p: torch.optim.SGD(p, lr=eta), ill_conditioned_quadratic, (-5, -2), steps
    )
    assert path.shape == (steps + 1, 2) and path.dtype == torch.float64
    x1, x2 = -5.0, -2.0
    for k in range(1, steps + 1):  # 梯度 (0.2 x1, 4 x2)
        x1, x2 = x1 - eta * 0.2 * x1, x2 - eta * 4 * x2
        torch.testing.assert_close(path[k], torch.tensor([x1, x2], dtype=torch.float64))
    assert ill_conditioned_quadratic(*path[-1]) < ill_conditioned_quadratic(*path[0])
