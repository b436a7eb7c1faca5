"""训练循环的各个钩子，逐一与参考实现对照。"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import (
    EMA,
    Callback,
    Checkpoint,
    GradClip,
    LRScheduler,
    fit,
    load_checkpoint,
    resolve_amp,
)


def _data(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 2, (n,), generator=g)


class GradRecorder(Callback):
    """在优化器更新前记下每个参数的梯度（排在其他回调之后就能看到它们修改后的梯度）。"""

    def __init__(self):
        self.grads: list[list[torch.Tensor]] = []

    def on_before_optimizer_step(self, state):
        self.grads.append([p.grad.detach().clone() for p in state.model.parameters()])


def _full_batch_grads(model, x, y):
    model = copy.deepcopy(model)
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    return [p.grad.clone() for p in model.parameters()]


def test_accumulated_gradient_equals_full_batch_gradient():
    x, y = _data(12)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    reference_first = _full_batch_grads(model, x[:8], y[:8])  # 第一组：4 个批量 x 2 个样本
    recorder = GradRecorder()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr=0：参数不变，便于对照
    fit(
        model,
        TensorLoader(x, y, 2),
        1,
        optimizer=optimizer,
        accumulate=4,
        callbacks=[recorder],
        verbose=False,
    )
    assert len(recorder.grads) == 2  # 6 个小批量 -> 满组 4 个 + 尾组 2 个
    for got, want in zip(recorder.grads[0], reference_first, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    # 尾组只有 2 个小批量，按实际个数缩放后同样等于这 4 个样本的平均梯度。
    for got, want in zip(recorder.grads[1], _full_batch_grads(model, x[8:], y[8:]), strict=True):
        assert torch.allclose(got, want, atol=1e-6)


def test_scheduler_steps_once_per_optimizer_step_with_accumulation():
    x, y = _data(16)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (step + 1))
    history = fit(
        model,
        TensorLoader(x, y, 2),
        2,
        optimizer=optimizer,
        accumulate=4,
        callbacks=[LRScheduler(scheduler, "step")],
        verbose=False,
    )
    assert len(history.steps) == 4  # 2 个 epoch x (8 个小批量 / 4)
    assert [s["lr"] for s in history.steps] == pytest.approx([1.0, 1 / 2, 1 / 3, 1 / 4])


def test_epoch_scheduler_halves_lr_each_epoch():
    x, y = _data(8)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.8)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(
        model,
        TensorLoader(x, y, 4),
        3,
        optimizer=optimizer,
        callbacks=[LRScheduler(scheduler, "epoch")],
        verbose=False,
    )
    assert history["lr"] == pytest.approx([0.8, 0.4, 0.2])


def test_clipping_logs_pre_clip_norm_and_bounds_post_clip_norm():
    x, y = _data(8)
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.mul_(50)  # 制造大梯度，保证会被裁剪
    expected = torch.linalg.vector_norm(
        torch.cat([g.flatten() for g in _full_batch_grads(model, x, y)])
    )
    recorder = GradRecorder()
    history = fit(
        model,
        TensorLoader(x, y, 8),
        1,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
        callbacks=[GradClip(0.1), recorder],
        verbose=False,
    )
    logged = history.steps[0]["grad_norm"]
    assert logged == pytest.approx(float(expected), rel=1e-5) and logged > 0.1
    after = torch.linalg.vector_norm(torch.cat([g.flatten() for g in recorder.grads[0]]))
    assert float(after) <= 0.1 * (1 + 1e-5)
    assert history.last["clipped_frac"] == 1.0


def test_ema_equals_hand_written_ema():
    x, y = _data(12)
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    snapshots: list[list[torch.Tensor]] = []

    class Snap(Callback):
        def on_optimizer_step(self, state):
            snapshots.append([p.detach().clone() for p in state.model.parameters()])

    ema = EMA(decay=0.9)
    fit(
        model,
        TensorLoader(x, y, 3),
        2,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        callbacks=[Snap(), ema],
        verbose=False,
    )
    # AveragedModel 的第一次更新直接复制参数，之后 ema = 0.9 * ema + 0.1 * param。
    hand = [t.clone() for t in snapshots[0]]
    for params in snapshots[1:]:
        hand = [0.9 * h + 0.1 * p for h, p in zip(hand, params, strict=True)]
    for h, p in zip(hand, ema.model.module.parameters(), strict=True):
        assert torch.allclose(h, p, atol=1e-6)
    assert not torch.allclose(hand[0], snapshots[-1][0])  # EMA 确实不同于最终参数


def test_bf16_autocast_on_cpu_keeps_fp32_parameters():
    x, y = _data(32)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    dtypes = []

    class Peek(Callback):
        def on_batch_end(self, state):
            dtypes.append(state.outputs.dtype)

    history = fit(
        model,
        TensorLoader(x, y, 8),
        3,
        amp="bf16",
        callbacks=[Peek()],
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        verbose=False,
    )
    assert set(dtypes) == {torch.bfloat16}  # 线性层在 autocast 下以 bf16 计算
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_amp_choices_are_validated():
    cpu = torch.device("cpu")
    assert not resolve_amp(None, cpu).enabled
    assert not resolve_amp("auto", cpu).enabled
    assert (
        resolve_amp("bf16", cpu).dtype == torch.bfloat16 and not resolve_amp("bf16", cpu).use_scaler
    )
    with pytest.raises(ValueError, match="CUDA"):
        resolve_amp("fp16", cpu)
    with pytest.raises(ValueError, match="amp"):
        resolve_amp("fp8", cpu)


def test_checkpoint_roundtrip(tmp_path):
    x, y = _data(12)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    path = tmp_path / "ckpt" / "last.pt"
    fit(
        model,
        TensorLoader(x, y, 4),
        2,
        optimizer=optimizer,
        callbacks=[Checkpoint(path)],
        verbose=False,
    )
    fresh = nn.Linear(3, 2)
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    extra = load_checkpoint(path, fresh, fresh_opt)
    assert extra["epoch"] == 2 and len(extra["history"]) == 2
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)
    assert fresh_opt.state_dict()["state"][0]["step"] == optimizer.state_dict()["state"][0]["step"]
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # 没有残留临时文件


def test_live_plot_renders_one_final_figure_in_a_book_build(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setenv("DLZH_BUILD", "1")
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    from dlzh.train import LivePlot

    x, y = _data(12)
    model = nn.Linear(3, 2)
    plot = LivePlot()
    fit(
        model,
        TensorLoader(x, y, 4),
        3,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        test_iter=TensorLoader(x, y, 4),
        callbacks=[plot],
        verbose=False,
    )
    assert len(shown) == 1 and shown[0] is plot.figure
    labels = [line.get_label() for line in plot.figure.axes[0].get_lines()]
    assert labels == ["训练损失", "测试损失", "训练准确率", "测试准确率"]
    assert len(plot.figure.axes[0].get_lines()[0].get_xdata()) == 3
