"""dlzh.train.scratch：从零实现的 SGD 与 torch.optim.SGD 逐步一致。"""

from __future__ import annotations

import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import ScratchSGD, fit


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
