"""优化算法部分共用的翼型实验：可复现、记录曲线、不同优化器结果可比。"""

from __future__ import annotations

import torch

from dlzh.optim import MomentumSGD
from dlzh.optim.airfoil import loss_curve, max_param_diff, train_airfoil


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 5, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0], [3.0]]) + 0.1 * torch.randn(
        400, 1, generator=g
    )
    return x, y


def test_same_seed_same_result_and_scratch_matches_torch():
    x, y = _data()
    a, hist_a = train_airfoil(lambda p: MomentumSGD(p, lr=0.05), features=x, labels=y)
    b, hist_b = train_airfoil(lambda p: torch.optim.SGD(p, lr=0.05), features=x, labels=y)
    assert max_param_diff(a, b) < 1e-6
    epochs, losses = loss_curve(hist_a)
    assert len(epochs) == 4  # 2 个 epoch x 400 个样本，每 200 个样本记一次
    assert epochs == sorted(epochs) and epochs[-1] == 2.0
    assert losses[-1] < 0.1 * losses[0]
    assert [s["time"] for s in hist_b.steps] == sorted(s["time"] for s in hist_b.steps)
