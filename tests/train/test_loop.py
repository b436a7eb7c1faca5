"""dlzh.train.loop：损失下降、梯度累加、评估、回调顺序、冒烟模式和摘要。"""

from __future__ import annotations

import copy

import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import Callback, History, evaluate, fit, summarize


def _blobs(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = torch.arange(n) % 3
    x = centers[y] + 0.5 * torch.randn(n, 2, generator=g)
    return x, y


def test_fit_reduces_loss_and_learns():
    torch.manual_seed(0)
    x, y = _blobs()
    loader = TensorLoader(x, y, 32, shuffle=True, seed=0)
    model = nn.Linear(2, 3)
    before = evaluate(model, loader, nn.CrossEntropyLoss())
    history = fit(
        model,
        loader,
        5,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        test_iter=loader,
        verbose=False,
    )
    assert len(history) == 5
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history.last["test_acc"] > 0.9 > before["accuracy"] - 0.5
    assert history.last["examples_per_sec"] > 0
    assert {"epoch", "train_loss", "train_acc", "test_loss", "test_acc"} <= set(history.keys())


def test_regression_mode_has_no_accuracy():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g)
    y = x @ torch.tensor([[2.0], [-3.4]]) + 4.2
    model = nn.Linear(2, 1)
    history = fit(
        model,
        TensorLoader(x, y, 10, shuffle=True),
        5,
        loss_fn=nn.MSELoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.03),
        classification=False,
        verbose=False,
    )
    assert "train_acc" not in history.keys()
    assert history.last["train_loss"] < 1e-3
    assert torch.allclose(model.bias, torch.tensor([4.2]), atol=0.05)


def test_callbacks_run_in_order_and_can_stop():
    events: list[str] = []

    class Recorder(Callback):
        def on_fit_start(self, state):
            events.append("fit_start")

        def on_epoch_start(self, state):
            events.append(f"epoch_start{state.epoch}")

        def on_batch_end(self, state):
            events.append("batch")

        def on_epoch_end(self, state):
            events.append(f"epoch_end{state.epoch}")
            state.epoch_record["custom"] = 42.0
            state.stop = state.epoch == 2

        def on_fit_end(self, state):
            events.append("fit_end")

    x, y = _blobs(20)
    model = nn.Linear(2, 3)
    history = fit(
        model,
        TensorLoader(x, y, 10),
        5,
        callbacks=[Recorder()],
        verbose=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
    )
    assert events == [
        "fit_start",
        "epoch_start1",
        "batch",
        "batch",
        "epoch_end1",
        "epoch_start2",
        "batch",
        "batch",
        "epoch_end2",
        "fit_end",
    ]
    assert history["custom"] == [42.0, 42.0]


def test_evaluate_restores_training_mode_and_counts_correctly():
    model = nn.Sequential(nn.Dropout(0.5), nn.Identity())
    model.train()
    x = torch.tensor([[5.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    y = torch.tensor([0, 1, 1])
    result = evaluate(
        nn.Identity(), TensorLoader(x, y, 2), nn.CrossEntropyLoss(), device=torch.device("cpu")
    )
    assert abs(result["accuracy"] - 2 / 3) < 1e-9
    evaluate(model, TensorLoader(x, y, 2), device=torch.device("cpu"))
    assert model.training


def test_summary_is_chinese_and_contains_numbers():
    history = History()
    history.append(
        {
            "epoch": 3,
            "train_loss": 0.5,
            "train_acc": 0.8,
            "test_acc": 0.75,
            "examples_per_sec": 1000,
        }
    )
    text = summarize(history, "cpu")
    assert "训练损失 0.5000" in text and "测试准确率 0.750" in text and "1,000 样本/秒" in text


def _data(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 2, (n,), generator=g)


class GradRecorder(Callback):
    """在优化器更新前记下每个参数的梯度。"""

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


def test_smoke_mode_stops_each_loop_after_two_batches(monkeypatch):
    monkeypatch.setenv("DLZH_SMOKE", "1")
    x, y = _data(40)
    seen = []

    class Count(Callback):
        def on_batch_end(self, state):
            seen.append(state.batch_idx)

    model = nn.Linear(3, 2)
    history = fit(
        model,
        TensorLoader(x, y, 4),
        5,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        test_iter=TensorLoader(x, y, 4),
        callbacks=[Count()],
        verbose=False,
    )
    assert seen == [0, 1] and len(history) == 1  # 一个 epoch、两个批量
