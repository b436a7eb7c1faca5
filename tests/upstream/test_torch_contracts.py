"""上游契约：dlzh 的代码依赖、但没有哪一页断言的 PyTorch 行为。

这些测试不测 dlzh，而是在升级依赖（``requirements/constraints.txt`` 或 ``pyproject.toml`` 变化）
时提前发现：某个被 dlzh 当作前提的上游行为变了。书页自己断言过的行为不在这里重复。
单独运行：``pytest -m upstream tests/upstream``。
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.benchmark import timer

from dlzh.train import checkpoint

pytestmark = pytest.mark.upstream


def test_benchmark_timer_synchronises_the_accelerator_before_reading(monkeypatch):
    """dlzh.bench 用这个时钟计时，正是因为它在读数前同步 GPU（否则只量到内核提交）。"""
    calls = []
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda *a, **k: calls.append("sync"))
    first, second = timer(), timer()
    assert calls == ["sync", "sync"] and second >= first


class _Opaque:
    pass


def test_weights_only_load_refuses_objects_and_accepts_the_checkpoint_allow_list(tmp_path):
    """dlzh.train.checkpoint 在保存时检查的类型表，必须正是 weights_only=True 能读回的那些。"""
    bad = tmp_path / "bad.pt"
    torch.save({"x": _Opaque()}, bad)
    with pytest.raises(Exception, match=r"[Ww]eights only load failed"):
        torch.load(bad, weights_only=True)
    samples = [True, 3, 2.5, "s", b"b", None, torch.ones(2), torch.float16, torch.device("cpu")]
    assert {type(v) for v in samples} >= set(checkpoint._PLAIN) - {torch.Tensor}
    good = tmp_path / "good.pt"
    torch.save({"values": samples, "nested": {"t": (1, [2.0])}}, good)
    loaded = torch.load(good, weights_only=True)
    assert loaded["values"][:6] == samples[:6] and loaded["nested"] == {"t": (1, [2.0])}
    assert loaded["values"][7:] == samples[7:] and torch.equal(loaded["values"][6], samples[6])


def test_clip_grad_norm_returns_the_pre_clip_norm_as_a_tensor():
    """GradClip 把返回值当作“裁剪前的范数”记录，并且不把它转成 Python 数。"""
    p = nn.Parameter(torch.zeros(3))
    p.grad = torch.tensor([3.0, 4.0, 0.0])
    norm = nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert isinstance(norm, torch.Tensor) and norm.item() == pytest.approx(5.0)
    assert p.grad.norm().item() == pytest.approx(1.0, rel=1e-5)
    p.grad = torch.tensor([0.3, 0.4, 0.0])
    assert nn.utils.clip_grad_norm_([p], max_norm=1.0).item() == pytest.approx(0.5)
    assert torch.equal(p.grad, torch.tensor([0.3, 0.4, 0.0]))  # 低于阈值：不动


def test_averaged_model_state_dict_carries_the_update_count():
    """EMA 回调的检查点就是 AveragedModel 的 state_dict：恢复后要接着原来的平均继续。"""
    model = nn.Linear(2, 2)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    for _ in range(3):
        ema.update_parameters(model)
    fresh = AveragedModel(nn.Linear(2, 2), multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    fresh.load_state_dict(ema.state_dict())
    assert int(fresh.n_averaged) == 3
    assert torch.equal(fresh.module.weight, ema.module.weight)


def test_grad_scaler_refuses_a_second_unscale_in_one_step():
    """TrainState.unscale_grads 记住本步是否已经反缩放过，因为第二次调用会报错。"""
    w = nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_"):
        scaler.unscale_(opt)
