"""dlzh.federated.fedavg：加权平均是精确的；一个客户端、E=1、全部参与时 FedAvg 等于集中式 SGD。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.data.loader import TensorLoader
from dlzh.federated.fedavg import client_seed, fedavg, sample_clients, weighted_average
from dlzh.federated.split import iid_split, shard_split
from dlzh.train.loop import fit


def test_weighted_average_is_exact():
    a = {"w": torch.tensor([0.0, 2.0]), "step": torch.tensor(7)}
    b = {"w": torch.tensor([4.0, 6.0]), "step": torch.tensor(9)}
    out = weighted_average([a, b], [1, 3])
    assert torch.equal(out["w"], torch.tensor([3.0, 5.0]))  # (1*a + 3*b) / 4，逐位相等
    assert out["w"].dtype == torch.float32
    assert out["step"].item() == 7  # 整数缓冲区取第一个


def test_weighted_average_with_sizes_matches_a_float64_reference():
    gen = torch.Generator().manual_seed(0)
    states = [{"w": torch.randn(5, 3, generator=gen)} for _ in range(7)]
    sizes = [600, 590, 612, 580, 600, 603, 599]
    ref = sum(s["w"].double() * n for s, n in zip(states, sizes, strict=True)) / sum(sizes)
    assert torch.equal(weighted_average(states, sizes)["w"], ref.float())


def test_weighted_average_rejects_bad_weights():
    with pytest.raises(ValueError, match="权重"):
        weighted_average([{"w": torch.ones(1)}], [0])
    with pytest.raises(ValueError, match="同样多"):
        weighted_average([{"w": torch.ones(1)}], [1, 2])


def test_sample_clients_takes_a_fraction_without_replacement():
    gen = torch.Generator().manual_seed(0)
    chosen = sample_clients(100, 0.1, gen)
    assert len(chosen) == 10 == len(set(chosen))
    assert sample_clients(100, 0.0, gen).__len__() == 1  # C=0：每轮一个客户端


def _toy_data(n=96, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=gen)
    y = (x.flatten(1).sum(1) > 0).long() + 2 * (x[:, 0, 0, 0] > 0).long()
    return x, y


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))


def test_one_client_one_epoch_full_participation_equals_centralised_sgd():
    x, y = _toy_data()
    fed, central = _model(), _model()
    fedavg(fed, x, y, [torch.arange(len(y))], rounds=1, fraction=1.0, epochs=1, batch_size=10,
           lr=0.1, seed=3)  # fmt: skip
    loader = TensorLoader(x, y, 10, shuffle=True, seed=client_seed(3, 1, 0))
    fit(central, loader, 1, optimizer=torch.optim.SGD(central.parameters(), lr=0.1), verbose=False)
    for p, q in zip(fed.parameters(), central.parameters(), strict=True):
        assert torch.equal(p, q)


def test_fedavg_learns_and_records_each_round():
    x, y = _toy_data(400)
    model = _model()
    parts = shard_split(y, 8)
    history = fedavg(model, x, y, parts, rounds=6, fraction=0.5, epochs=2, batch_size=10, lr=0.2,
                     test=(x, y))  # fmt: skip
    assert history["round"] == list(range(1, 7))
    assert all(len(c) == 4 for c in history["clients"])
    assert history["test_loss"][-1] < history["test_loss"][0]
    assert history["test_acc"][-1] > 0.5  # 四类，随机猜约 0.25


def test_more_local_epochs_change_the_result():
    """E 是真的在起作用：同样的轮数和客户端，E=1 与 E=3 得到不同的参数。"""
    x, y = _toy_data()
    parts = iid_split(len(y), 4)
    a, b = _model(), _model()
    for model, e in ((a, 1), (b, 3)):
        fedavg(model, x, y, parts, rounds=1, fraction=1.0, epochs=e, batch_size=8, lr=0.1)
    assert not torch.equal(a[1].weight, b[1].weight)


def test_smoke_mode_runs_only_a_few_rounds_and_says_so(monkeypatch, capsys):
    """冒烟模式只检查代码路径：50 轮的 full 设置截成 SMOKE_BATCHES 轮，并打印一行说明。"""
    from dlzh.federated.fedavg import smoke_rounds
    from dlzh.profile import SMOKE_BATCHES

    monkeypatch.setenv("DLZH_PROFILE", "full")
    monkeypatch.setenv("DLZH_SMOKE", "1")
    x, y = _toy_data(80)
    history = fedavg(_model(), x, y, iid_split(len(y), 4), rounds=50, fraction=0.5, epochs=1,
                     batch_size=10, lr=0.1, test=(x, y))  # fmt: skip
    assert history["round"] == list(range(1, SMOKE_BATCHES + 1))
    assert len(history["test_acc"]) == SMOKE_BATCHES
    assert "冒烟模式" in capsys.readouterr().out
    monkeypatch.delenv("DLZH_SMOKE")
    assert smoke_rounds(50) == 50
