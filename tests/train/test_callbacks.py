"""dlzh.train.callbacks：调度、裁剪、EMA、实时曲线和检查点回调，逐一与参考实现对照。"""

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
    SchedulerStep,
    fit,
    load_checkpoint,
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
        callbacks=[SchedulerStep(scheduler, "step")],
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
        callbacks=[SchedulerStep(scheduler, "epoch")],
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


def test_grad_clip_does_not_sync_every_step(monkeypatch):
    """裁剪前的范数留在设备上：主机取值的次数不随步数增长（每步 float(norm) 是一次 GPU 同步）。"""

    def host_reads(num_batches: int) -> int:
        x, y = _data(4 * num_batches)
        model = nn.Linear(3, 2)
        reads = []
        for name in ("__float__", "item", "tolist"):
            original = getattr(torch.Tensor, name)

            def counting(self, *args, _original=original, _name=name, **kwargs):
                reads.append(_name)
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(torch.Tensor, name, counting)
        history = fit(
            model,
            TensorLoader(x, y, 4),
            1,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            callbacks=[GradClip(1.0)],
            verbose=False,
        )
        monkeypatch.undo()
        assert len(history.steps) == num_batches
        assert all(isinstance(s["grad_norm"], float) for s in history.steps)  # epoch 末已取回
        return len(reads)

    assert host_reads(3) == host_reads(9)


def test_scheduler_step_rejects_unknown_interval():
    optimizer = torch.optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    with pytest.raises(ValueError, match="interval"):
        SchedulerStep(scheduler, "batch")


def test_checkpoint_keeps_the_ema_model_and_resumes_it(tmp_path):
    x, y = _data(12)
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    ema = EMA(decay=0.9)
    path = tmp_path / "ema.pt"
    fit(
        model,
        TensorLoader(x, y, 3),
        2,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        callbacks=[ema, Checkpoint(path, ema=ema)],
        verbose=False,
    )
    averaged = [p.detach().clone() for p in ema.model.module.parameters()]
    assert not torch.equal(averaged[0], model.weight)  # EMA 与最终参数不同，丢掉它就会看出来

    restored, fresh_ema = nn.Linear(3, 2), EMA(decay=0.9)
    load_checkpoint(path, restored, ema=fresh_ema)  # weights_only=True 加载
    # 训练开始时才创建 EMA 模型：载入的状态先存着，开始后接着原来的平均值。
    fit(
        restored,
        TensorLoader(x, y, 3),
        1,
        optimizer=torch.optim.SGD(restored.parameters(), lr=0.0),
        callbacks=[fresh_ema],
        verbose=False,
    )
    assert int(fresh_ema.model.n_averaged) == int(ema.model.n_averaged) + 4
    for got, want in zip(fresh_ema.model.module.parameters(), averaged, strict=True):
        # lr=0：参数不再变化，4 次更新后 EMA = 0.9^4 * 旧 EMA + (1 - 0.9^4) * 参数
        expected = (
            0.9**4 * want
            + (1 - 0.9**4)
            * dict(restored.named_parameters())["weight" if got.ndim == 2 else "bias"].detach()
        )
        assert torch.allclose(got, expected, atol=1e-6)


def test_checkpoint_refuses_a_missing_ema_model(tmp_path):
    ema = EMA(decay=0.9)
    with pytest.raises(ValueError, match="None"):
        Checkpoint(tmp_path / "x.pt", ema=ema.model)  # 训练前 .model 还是 None
    with pytest.raises(RuntimeError, match="EMA"):
        ema.state_dict()


def test_live_plot_updates_one_display_each_epoch_when_interactive(monkeypatch):
    import IPython.display

    from dlzh.train import LivePlot, callbacks

    class Handle:
        def __init__(self):
            self.updates = []

        def update(self, fig):
            self.updates.append(len(fig.axes[0].get_lines()[0].get_xdata()))

    handle, shown = Handle(), []

    def fake_display(obj, **kwargs):
        shown.append(kwargs)
        return handle

    monkeypatch.setattr(callbacks, "in_book_build", lambda: False)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    x, y = _data(12)
    model = nn.Linear(3, 2)
    fit(
        model,
        TensorLoader(x, y, 4),
        3,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        callbacks=[LivePlot()],
        verbose=False,
    )
    assert shown == [{"display_id": True}]  # 只创建一个输出区域
    assert handle.updates == [
        2,
        3,
        3,
    ]  # 第 2、3 个 epoch 各刷新一次（含当前 epoch），最后一次是最终图
