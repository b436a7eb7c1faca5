"""模型 EMA：AveragedModel + get_ema_multi_avg_fn、手写 EMA 与 timm ModelEmaV2 三者一致。"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

DECAY = 0.9


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def _train_steps(model, n, callback):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    for _ in range(n):
        loss = model(torch.randn(16, 4, generator=g)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        callback(model)


def _float_items(module):
    return {k: v for k, v in module.state_dict().items() if v.dtype.is_floating_point}


def test_averaged_model_equals_hand_written_ema():
    model = _model()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(DECAY), use_buffers=True)
    ema.update_parameters(model)  # 第一次更新是复制：在训练开始前先“对齐”
    hand = {k: v.detach().clone() for k, v in _float_items(model).items()}

    def update(m):
        ema.update_parameters(m)
        with torch.no_grad():
            for k, v in _float_items(m).items():
                hand[k].mul_(DECAY).add_(v, alpha=1 - DECAY)

    _train_steps(model, 6, update)
    for k, v in _float_items(ema.module).items():
        assert torch.allclose(v, hand[k], atol=1e-6), k


def test_first_update_copies_the_weights():
    model = _model()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(DECAY))
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update_parameters(model)  # n_averaged == 0：直接复制，不做平均
    assert torch.equal(ema.module[0].weight, model[0].weight)
    ema.update_parameters(model)
    assert int(ema.n_averaged) == 2


def test_default_use_buffers_false_copies_bn_stats_instead_of_averaging():
    model = _model()
    plain = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(DECAY))  # use_buffers=False
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(DECAY), use_buffers=True)

    def update(m):
        plain.update_parameters(m)
        averaged.update_parameters(m)

    update(model)
    _train_steps(model, 3, update)
    # 默认：BN 的运行统计量直接照抄当前模型，与平均后的权重并不配套
    assert torch.equal(plain.module[1].running_mean, model[1].running_mean)
    # use_buffers=True：统计量也做了 EMA
    assert not torch.allclose(averaged.module[1].running_mean, model[1].running_mean)


def test_matches_timm_model_ema_v2():
    timm_utils = pytest.importorskip("timm.utils")
    model = _model()
    ref = timm_utils.ModelEmaV2(copy.deepcopy(model), decay=DECAY)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(DECAY), use_buffers=True)
    ema.update_parameters(model)

    def update(m):
        ema.update_parameters(m)
        ref.update(m)

    _train_steps(model, 6, update)
    ours, theirs = _float_items(ema.module), _float_items(ref.module)
    for k in ours:
        assert torch.allclose(ours[k], theirs[k], atol=1e-6), k


def test_ema_reduces_noise_of_sgd_iterates():
    """带噪声的 SGD 在最优点附近抖动；EMA 平均后的参数平均而言离最优点近得多。"""
    g = torch.Generator().manual_seed(0)
    w_star = torch.tensor([2.0, -3.0])
    w = nn.Parameter(torch.zeros(2))
    holder = nn.ParameterList([w])
    ema = AveragedModel(holder, multi_avg_fn=get_ema_multi_avg_fn(0.95))
    ema.update_parameters(holder)
    opt = torch.optim.SGD([w], lr=0.2)
    raw_sq, ema_sq = [], []
    for step in range(300):
        x = torch.randn(4, 2, generator=g)
        y = x @ w_star + torch.randn(4, generator=g)
        loss = ((x @ w - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update_parameters(holder)
        if step >= 150:  # 只看已进入稳态的后一半
            raw_sq.append((w.detach() - w_star).square().sum())
            ema_sq.append((ema.module[0].detach() - w_star).square().sum())
    assert torch.stack(ema_sq).mean() < 0.5 * torch.stack(raw_sq).mean()
