"""评估模式与训练稳定性：no_grad / eval / inference_mode、梯度裁剪、BN 前的卷积偏置、zero_grad。"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn


def _count_saved_tensors(fn) -> int:
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(1) or t, lambda t: t):
        fn()
    return len(saved)


def test_no_grad_saves_no_tensors_and_output_has_no_graph():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    x = torch.randn(4, 8)
    assert _count_saved_tensors(lambda: model(x)) > 0
    with torch.no_grad():
        assert _count_saved_tensors(lambda: model(x)) == 0
        out = model(x)
    assert not out.requires_grad and out.grad_fn is None


def test_no_grad_does_not_switch_batchnorm_to_eval():
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(3)
    x = torch.randn(16, 3) + 5.0
    with torch.no_grad():
        bn(x)  # 仍处于训练模式
    assert not torch.allclose(bn.running_mean, torch.zeros(3))
    before = bn.running_mean.clone()
    bn.eval()
    with torch.no_grad():
        bn(x)
    assert torch.equal(bn.running_mean, before)


def test_no_grad_keeps_dropout_random_but_eval_disables_it():
    torch.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = torch.ones(1000)
    with torch.no_grad():
        assert not torch.equal(drop(x), drop(x))
    drop.eval()
    assert torch.equal(drop(x), x)


def test_inference_mode_tensors_cannot_enter_autograd():
    layer = nn.Linear(3, 3)
    with torch.inference_mode():
        feat = layer(torch.randn(2, 3))
    assert feat.is_inference() and not feat.requires_grad
    with pytest.raises(RuntimeError, match=r"[Ii]nference tensors"):
        layer(feat).sum().backward()
    # 先 clone 成普通张量就可以继续使用
    layer(feat.clone()).sum().backward()
    assert layer.weight.grad is not None


def test_clip_grad_norm_returns_pre_clip_norm_and_keeps_direction():
    torch.manual_seed(0)
    params = [nn.Parameter(torch.randn(10, 10)), nn.Parameter(torch.randn(10))]
    for p in params:
        p.grad = torch.randn_like(p) * 10
    before = torch.cat([p.grad.flatten() for p in params]).clone()
    returned = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    after = torch.cat([p.grad.flatten() for p in params])
    assert torch.allclose(returned, before.norm(), rtol=1e-6)
    assert after.norm() <= 1.0 + 1e-5
    assert torch.nn.functional.cosine_similarity(before, after, dim=0) > 1 - 1e-6


def test_clip_grad_norm_below_threshold_is_a_no_op():
    p = nn.Parameter(torch.zeros(3))
    p.grad = torch.tensor([0.3, 0.4, 0.0])
    norm = torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert norm.item() == pytest.approx(0.5)
    assert torch.equal(p.grad, torch.tensor([0.3, 0.4, 0.0]))


def _conv_bn_pair(seed: int = 0):
    torch.manual_seed(seed)
    conv_b = nn.Conv2d(3, 4, 3, bias=True)
    nn.init.uniform_(conv_b.bias, 1.0, 2.0)  # 偏置大一些，差别才明显
    conv_n = nn.Conv2d(3, 4, 3, bias=False)
    conv_n.weight.data.copy_(conv_b.weight.data)
    return nn.Sequential(conv_b, nn.BatchNorm2d(4)), nn.Sequential(conv_n, nn.BatchNorm2d(4))


def test_conv_bias_is_cancelled_by_batchnorm_in_train_mode():
    with_bias, without = _conv_bn_pair()
    x = torch.randn(8, 3, 10, 10)
    y1, y2 = with_bias(x), without(x)
    assert torch.allclose(y1, y2, atol=1e-5)
    y1.square().sum().backward()
    assert with_bias[0].bias.grad.abs().max() < 1e-3
    # 运行均值相差恰好是 momentum * bias
    diff = with_bias[1].running_mean - without[1].running_mean
    assert torch.allclose(diff, 0.1 * with_bias[0].bias.detach(), atol=1e-5)


def test_conv_bias_is_not_cancelled_in_eval_mode_after_one_update():
    with_bias, without = _conv_bn_pair()
    x = torch.randn(8, 3, 10, 10)
    with torch.no_grad():
        with_bias(x), without(x)  # 训练模式下更新一次运行统计量
    with_bias.eval(), without.eval()
    with torch.no_grad():
        gap = (with_bias(x) - without(x)).abs().max()
    assert gap > 0.1


def test_zero_grad_sets_grads_to_none_by_default():
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert inspect.signature(opt.zero_grad).parameters["set_to_none"].default is True
    model(torch.randn(4, 3)).sum().backward()
    assert model.weight.grad is not None
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in model.parameters())


def test_none_grad_skips_momentum_update_but_zero_grad_does_not():
    """梯度为 None 的参数会被优化器跳过；梯度为 0 时动量和权重衰减仍然会更新它。"""
    results = {}
    for set_to_none in (True, False):
        torch.manual_seed(0)
        w = nn.Parameter(torch.ones(3))
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
        (w * 2).sum().backward()
        opt.step()
        opt.zero_grad(set_to_none=set_to_none)
        snapshot = w.detach().clone()
        opt.step()  # 这一步 w 没有参与前向计算
        results[set_to_none] = torch.equal(w.detach(), snapshot)
    assert results == {True: True, False: False}
