"""优化算法部分共用的翼型实验：可复现、记录曲线、不同优化器结果可比。"""

from __future__ import annotations

import os

import torch

from dlzh.optim import MomentumSGD
from dlzh.optim.airfoil import least_squares_mse, loss_curve, max_param_diff, train_airfoil


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


def test_least_squares_mse_is_the_floor_of_training():
    x, y = _data()
    floor = least_squares_mse(x, y)
    # 噪声标准差 0.1：最小均方误差应接近噪声方差 0.01，且不会高于它太多
    assert 0.005 < floor < 0.012
    # 训练得到的线性模型损失不低于下限，而足够长的训练会逼近它
    net, _ = train_airfoil(
        lambda p: torch.optim.SGD(p, lr=0.05), num_epochs=20, features=x, labels=y
    )
    with torch.no_grad():
        trained = float(((net(x) - y) ** 2).mean())
    assert floor <= trained + 1e-7
    assert trained < floor * 1.2
    # 标签恰好是特征的线性函数时，下限是 0
    assert least_squares_mse(x, x @ torch.ones(5, 1) + 2.0) < 1e-10


def test_smoke_mode_still_runs_the_whole_airfoil_experiment(monkeypatch):
    x, y = _data()
    monkeypatch.setenv("DLZH_SMOKE", "1")
    _, history = train_airfoil(lambda p: torch.optim.SGD(p, lr=0.05), features=x, labels=y)
    assert [s["epoch"] for s in history.steps] == [0.5, 1.0, 1.5, 2.0]
    assert os.environ["DLZH_SMOKE"] == "1"  # 调用之后冒烟模式原样恢复
