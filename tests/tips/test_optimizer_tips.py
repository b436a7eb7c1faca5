"""优化器与学习率技巧：AdamW 与 Adam 的权重衰减、参数分组、OneCycleLR、学习率缩放。"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from dlzh.optim import scale_lr, weight_decay_param_groups

LR, WD = 1e-2, 0.1


def _train(make_opt, l2_in_loss: float = 0.0, steps: int = 20) -> torch.Tensor:
    """在固定的二次损失上走 steps 步，返回最终参数。"""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 10, generator=g), torch.randn(64, generator=g)
    w = nn.Parameter(torch.randn(10, generator=g))
    opt = make_opt([w])
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean() + l2_in_loss / 2 * w.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach()


def test_adam_weight_decay_is_l2_in_the_loss_but_adamw_is_not():
    adam_wd = _train(lambda p: torch.optim.Adam(p, lr=LR, weight_decay=WD))
    adam_l2 = _train(lambda p: torch.optim.Adam(p, lr=LR), l2_in_loss=WD)
    adamw = _train(lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WD))
    torch.testing.assert_close(adam_wd, adam_l2, atol=1e-6, rtol=0)
    assert (adamw - adam_wd).abs().max() > 1e-3


def test_adamw_equals_decoupled_adam():
    adamw = _train(lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WD))
    decoupled = _train(
        lambda p: torch.optim.Adam(p, lr=LR, weight_decay=WD, decoupled_weight_decay=True)
    )
    assert torch.equal(adamw, decoupled)


def test_default_weight_decay_differs_between_adam_and_adamw():
    p = [nn.Parameter(torch.ones(1))]
    assert torch.optim.AdamW(p).defaults["weight_decay"] == 0.01
    assert torch.optim.Adam(p).defaults["weight_decay"] == 0


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Flatten(),
        nn.LayerNorm(8 * 6 * 6),
        nn.Linear(8 * 6 * 6, 10),
    )


def test_param_groups_split_matrices_from_biases_and_norms():
    net = _net()
    names = {id(p): n for n, p in net.named_parameters()}
    decay, no_decay = weight_decay_param_groups(net, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert [names[id(p)] for p in decay["params"]] == ["0.weight", "5.weight"]
    assert sorted(names[id(p)] for p in no_decay["params"]) == [
        "1.bias",
        "1.weight",
        "4.bias",
        "4.weight",
        "5.bias",
    ]


def test_param_groups_skip_frozen_and_named_parameters():
    net = _net()
    net[0].weight.requires_grad_(False)
    groups = weight_decay_param_groups(net, 0.05, skip={"5.weight"})
    assert len(groups) == 1 and groups[0]["weight_decay"] == 0.0
    assert all(p is not net[0].weight for p in groups[0]["params"])
    with pytest.raises(ValueError):
        weight_decay_param_groups(net, -1.0)


def test_zero_grad_adamw_step_shrinks_decayed_params_by_exactly_one_minus_lr_wd():
    net, lr, wd = _net(), 0.1, 0.05
    groups = weight_decay_param_groups(net, wd)
    opt = torch.optim.AdamW(groups, lr=lr)
    before = {p: p.detach().clone() for p in net.parameters()}
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    decayed, excluded = groups[0]["params"], groups[1]["params"]
    for p in decayed:
        assert torch.equal(p.detach(), before[p] * (1 - lr * wd))
        assert not torch.equal(p.detach(), before[p])
    for p in excluded:
        assert torch.equal(p.detach(), before[p])


def test_param_groups_agree_with_timm():
    timm_groups = pytest.importorskip("timm.optim").param_groups_weight_decay
    net = _net()
    ours = weight_decay_param_groups(net, 0.05)
    theirs = timm_groups(net, weight_decay=0.05)
    as_sets = lambda groups: {g["weight_decay"]: {id(p) for p in g["params"]} for g in groups}  # noqa: E731
    assert as_sets(ours) == as_sets(theirs)


def _one_cycle_trace(total: int, **kwargs) -> tuple[list[float], list[float]]:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=total, **kwargs)
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    return lrs, moms


def test_one_cycle_per_step_values():
    lrs, moms = _one_cycle_trace(100)
    peak = max(range(100), key=lrs.__getitem__)
    assert lrs[0] == pytest.approx(1.0 / 25)  # max_lr / div_factor
    assert peak == 29 and lrs[peak] == pytest.approx(1.0)  # pct_start = 0.3
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4, rel=1e-6)  # initial / final_div_factor
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85)
    assert all(a <= b for a, b in itertools.pairwise(lrs[: peak + 1]))


def test_one_cycle_stepped_per_epoch_stays_in_warmup_and_overrun_raises():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, epochs=10, steps_per_epoch=50)
    for _ in range(10):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] < 0.1
    short = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    for _ in range(2):
        opt.step()
        short.step()
    opt.step()
    with pytest.raises(ValueError, match="total steps"):
        short.step()


def test_scale_lr_rules():
    assert scale_lr(0.1, 1024) == pytest.approx(0.4)
    assert scale_lr(0.1, 128) == pytest.approx(0.05)
    assert scale_lr(1e-3, 1024, rule="sqrt") == pytest.approx(2e-3)
    assert scale_lr(5e-4, 512, base_batch=512, rule="sqrt") == pytest.approx(5e-4)
    with pytest.raises(ValueError):
        scale_lr(0.1, 256, rule="cubic")
    with pytest.raises(ValueError):
        scale_lr(0.1, 0)


def test_linear_scaling_is_first_order_in_the_learning_rate():
    torch.manual_seed(0)
    X, y = torch.randn(128, 20, dtype=torch.float64), torch.randn(128, 1, dtype=torch.float64)
    init = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 1)).double().state_dict()

    def params_after(batches, lr):
        net = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 1)).double()
        net.load_state_dict(init)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        for xb, yb in batches:
            opt.zero_grad()
            nn.functional.mse_loss(net(xb), yb).backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in net.parameters()])

    def gap(eta, k=4, B=32):
        one = params_after([(X[: k * B], y[: k * B])], k * eta)
        many = params_after(zip(X[: k * B].split(B), y[: k * B].split(B), strict=True), eta)
        return (one - many).abs().max().item()

    ratio = gap(0.02) / gap(0.01)
    assert math.isfinite(ratio) and 3.0 < ratio < 5.0
