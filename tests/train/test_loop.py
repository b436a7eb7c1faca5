"""通用训练循环：损失下降、评估、回调顺序和历史记录。"""

from __future__ import annotations

import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import Callback, History, ScratchSGD, evaluate, fit, summarize


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


def test_scratch_sgd_matches_torch_sgd():
    x, y = _blobs(64)
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
