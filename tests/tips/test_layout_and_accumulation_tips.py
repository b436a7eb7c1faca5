"""channels_last 的排列与数值、梯度累加与整批梯度的关系。"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F


def test_channels_last_changes_strides_not_values():
    x = torch.randn(2, 3, 16, 16)
    x_cl = x.to(memory_format=torch.channels_last)
    assert x_cl.shape == x.shape and x_cl.stride() == (768, 1, 48, 3)
    assert torch.equal(x, x_cl)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    conv_cl = copy.deepcopy(conv).to(memory_format=torch.channels_last)
    assert conv_cl.weight.is_contiguous(memory_format=torch.channels_last)
    y, y_cl = conv(x), conv_cl(x_cl)
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, y_cl, atol=1e-5, rtol=1e-5)
    assert x_cl.contiguous().stride() == x.stride()  # .contiguous() 变回 NCHW


def _grads(model: nn.Module, X, y, k: int, divide: bool = True) -> torch.Tensor:
    model.zero_grad()
    for xb, yb in zip(X.chunk(k), y.chunk(k), strict=True):
        loss = F.cross_entropy(model(xb), yb)
        (loss / k if divide else loss).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 10, generator=g), torch.randint(0, 3, (32,), generator=g)


def test_accumulating_k_micro_batches_with_loss_over_k_equals_full_batch():
    X, y = _data()
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    full = _grads(mlp, X, y, 1)
    torch.testing.assert_close(_grads(mlp, X, y, 4), full, atol=1e-6, rtol=0)
    torch.testing.assert_close(_grads(mlp, X, y, 4, divide=False), 4 * full, atol=1e-6, rtol=1e-5)


def test_batchnorm_breaks_the_equivalence():
    X, y = _data()
    torch.manual_seed(0)
    bn = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    assert (_grads(bn, X, y, 4) - _grads(bn, X, y, 1)).abs().max() > 1e-3
