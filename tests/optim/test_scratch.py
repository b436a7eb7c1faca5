"""dlzh.optim.scratch：从零实现的优化器与 torch.optim 逐步对照（float64，紧容差）。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.optim import (
    AdadeltaScratch,
    AdaGradScratch,
    AdamScratch,
    MomentumSGD,
    RMSPropScratch,
    ScratchSGD,
    ill_conditioned_quadratic,
    optimize_2d,
)
from dlzh.train import fit

PAIRS = [
    ("sgd", lambda p: MomentumSGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (
        "momentum",
        lambda p: MomentumSGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    (
        "momentum+wd",
        lambda p: MomentumSGD(p, lr=0.05, momentum=0.5, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.01),
    ),
    ("adagrad", lambda p: AdaGradScratch(p, lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3)),
    (
        "rmsprop",
        lambda p: RMSPropScratch(p, lr=0.01, alpha=0.9),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
    ),
    ("adadelta", lambda p: AdadeltaScratch(p, rho=0.9), lambda p: torch.optim.Adadelta(p, rho=0.9)),
    ("adam", lambda p: AdamScratch(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
]


def _trajectory(make, steps=30):
    """一个小的非二次问题：线性回归 + tanh，梯度随参数变化，能暴露更新公式里的差别。"""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g, dtype=torch.float64)
    y = torch.randn(64, generator=g, dtype=torch.float64)
    w = torch.randn(4, generator=g, dtype=torch.float64).requires_grad_()
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = make([w, b])
    path = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((torch.tanh(x @ w + b) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        path.append(torch.cat([w.detach(), b.detach()]).clone())
    return torch.stack(path)


@pytest.mark.parametrize(("name", "ours", "theirs"), PAIRS, ids=[p[0] for p in PAIRS])
def test_matches_torch_optim_step_by_step(name, ours, theirs):
    mine, ref = _trajectory(ours), _trajectory(theirs)
    assert not torch.allclose(mine[0], mine[-1])  # 参数确实在变
    assert torch.allclose(mine, ref, rtol=1e-10, atol=1e-12), (mine - ref).abs().max()


def test_works_with_lr_scheduler_and_param_groups():
    w = torch.ones(2, requires_grad=True)
    v = torch.ones(2, requires_grad=True)
    optimizer = AdamScratch([{"params": [w]}, {"params": [v], "lr": 0.0}], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    (w.sum() + v.sum()).backward()
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    assert torch.equal(v, torch.ones(2))  # lr=0 的参数组不动
    assert torch.all(w < 1)


def test_optimize_2d_converges_on_quadratic():
    path = optimize_2d(
        lambda p: torch.optim.SGD(p, lr=0.4), ill_conditioned_quadratic, (-5.0, -2.0), 40
    )
    assert path.shape == (41, 2)
    assert float(ill_conditioned_quadratic(*path[-1])) < 0.05 * float(
        ill_conditioned_quadratic(*path[0])
    )


def _blobs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    return torch.randn(n, 2, generator=g) + y[:, None].float(), y


def test_scratch_sgd_matches_torch_sgd():
    x, y = _blobs()
    torch.manual_seed(1)
    a = nn.Linear(2, 3)
    b = nn.Linear(2, 3)
    b.load_state_dict(a.state_dict())
    loader = TensorLoader(x, y, 16, shuffle=True, seed=5)
    fit(a, loader, 2, optimizer=ScratchSGD(a.parameters(), lr=0.1), verbose=False)
    loader = TensorLoader(x, y, 16, shuffle=True, seed=5)
    fit(b, loader, 2, optimizer=torch.optim.SGD(b.parameters(), lr=0.1), verbose=False)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_zero_grad_and_parameters_without_gradient():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = ScratchSGD([a, b], lr=0.5)
    a.grad = torch.tensor([1.0, -2.0])  # b 没有梯度：不更新，也不报错
    opt.step()
    assert torch.equal(a.detach(), torch.tensor([0.5, 2.0])) and torch.equal(
        b.detach(), torch.ones(2)
    )
    opt.zero_grad()
    assert a.grad is None
