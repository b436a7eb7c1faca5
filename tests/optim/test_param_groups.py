"""dlzh.optim.param_groups：权重衰减的参数分组（与 timm 对照）和学习率缩放规则。"""

from __future__ import annotations

import pytest
import timm.optim
import torch
from torch import nn

from dlzh.optim import scale_lr, weight_decay_param_groups


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
    timm_groups = timm.optim.param_groups_weight_decay
    net = _net()
    ours = weight_decay_param_groups(net, 0.05)
    theirs = timm_groups(net, weight_decay=0.05)
    as_sets = lambda groups: {g["weight_decay"]: {id(p) for p in g["params"]} for g in groups}  # noqa: E731
    assert as_sets(ours) == as_sets(theirs)


def test_scale_lr_rules():
    assert scale_lr(0.1, 1024) == pytest.approx(0.4)
    assert scale_lr(0.1, 128) == pytest.approx(0.05)
    assert scale_lr(1e-3, 1024, rule="sqrt") == pytest.approx(2e-3)
    assert scale_lr(5e-4, 512, base_batch=512, rule="sqrt") == pytest.approx(5e-4)
    with pytest.raises(ValueError):
        scale_lr(0.1, 256, rule="cubic")
    with pytest.raises(ValueError):
        scale_lr(0.1, 0)
