"""合成线性数据：形状、可复现，以及最小二乘能从中找回真实参数。"""

from __future__ import annotations

import torch

from dlzh.data import array_loader, synthetic_linear


def test_least_squares_recovers_the_true_parameters():
    w, b = torch.tensor([2.0, -3.4]), 4.2
    X, y = synthetic_linear(w, b, 2000, noise=0.01, seed=0)
    assert X.shape == (2000, 2) and y.shape == (2000, 1)
    design = torch.cat([X, torch.ones(2000, 1)], dim=1)
    solution = torch.linalg.lstsq(design, y).solution.reshape(-1)
    assert torch.allclose(solution, torch.tensor([2.0, -3.4, 4.2]), atol=2e-3)
    residual = y - design @ solution.reshape(-1, 1)
    assert abs(float(residual.std()) - 0.01) < 2e-3  # 噪声的标准差就是给定的 noise


def test_same_seed_same_data_and_loader_covers_every_row():
    a = synthetic_linear(torch.tensor([1.0]), 0.0, 50, seed=3)
    b = synthetic_linear(torch.tensor([1.0]), 0.0, 50, seed=3)
    c = synthetic_linear(torch.tensor([1.0]), 0.0, 50, seed=4)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    rows = torch.cat([xb for xb, _ in array_loader(a[0], a[1], 7, seed=1)])
    assert sorted(rows.reshape(-1).tolist()) == sorted(a[0].reshape(-1).tolist())
