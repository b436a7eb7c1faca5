"""dlzh.federated.flower：结果行的解析、失败时的报错，以及全部客户端参与时与我们的 FedAvg 逐轮一致。"""

from __future__ import annotations

import json

import pytest
import torch

from dlzh.federated import fedavg, flower
from dlzh.models.mnist_nets import mnist_2nn


def test_parse_results_reads_round_lines_in_order():
    text = "\n".join(
        [
            "随便什么日志",
            flower.RESULT_PREFIX + json.dumps({"round": 1, "test_loss": 1.5, "test_acc": 0.4}),
            flower.RESULT_PREFIX + json.dumps({"round": 0, "test_loss": 2.3, "test_acc": 0.1}),
        ]
    )
    assert flower.parse_results(text) == {
        "round": [0, 1],
        "test_loss": [2.3, 1.5],
        "test_acc": [0.1, 0.4],
    }


def test_a_failed_simulation_is_retried_then_raises_with_the_log_tail(
    monkeypatch, tmp_path, capsys
):
    if not flower.flower_available():
        pytest.skip("flwr[simulation] 未安装")
    script = "import sys; print('Ray 起不来：模拟的错误', file=sys.stderr); sys.exit(3)"
    monkeypatch.setattr(flower, "_ENTRY", script)
    with pytest.raises(RuntimeError, match="退出码 3") as info:
        flower.run_flower_fedavg(flower.FlowerConfig(rounds=1), log_dir=tmp_path, attempts=2)
    assert "Ray 起不来" in str(info.value)
    # 第一次失败后重试了一次，两次各有一份日志。
    assert "重试一次" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flower-1.log", "flower-2.log"]


def test_a_hanging_simulation_is_killed_after_the_timeout(monkeypatch, tmp_path):
    if not flower.flower_available():
        pytest.skip("flwr[simulation] 未安装")
    monkeypatch.setattr(flower, "_ENTRY", "import time; time.sleep(60)")
    with pytest.raises(RuntimeError, match="退出码 -9"):
        flower.run_flower_fedavg(
            flower.FlowerConfig(rounds=1), log_dir=tmp_path, timeout=1, attempts=1
        )


def test_smoke_mode_hands_the_simulation_only_a_few_rounds(monkeypatch, tmp_path):
    """冒烟模式下交给 Flower 子进程的配置也只有几轮（与我们的 FedAvg 截得一样）。

    子进程换成一个只回显配置的脚本：它按收到的轮数打印结果行，不起 Ray。"""
    if not flower.flower_available():
        pytest.skip("flwr[simulation] 未安装")
    from dlzh.profile import SMOKE_BATCHES

    script = (
        "import json, sys; c = json.loads(sys.argv[1]); m = max(round(c['fraction'] * c['num_clients']), 1)\n"
        "for r in range(c['rounds'] + 1):\n"
        f"    print({flower.RESULT_PREFIX!r} + json.dumps(dict(round=r, test_loss=1.0, test_acc=0.5)))\n"
        f"    print({flower.REPLIES_PREFIX!r} + str(m)) if r else None\n"
    )
    monkeypatch.setattr(flower, "_ENTRY", script)
    monkeypatch.setenv("DLZH_PROFILE", "full")
    monkeypatch.setenv("DLZH_SMOKE", "1")
    history = flower.run_flower_fedavg(flower.FlowerConfig(rounds=20), log_dir=tmp_path, attempts=1)
    assert history["round"] == list(range(SMOKE_BATCHES + 1))
    monkeypatch.delenv("DLZH_SMOKE")
    history = flower.run_flower_fedavg(flower.FlowerConfig(rounds=3), log_dir=tmp_path, attempts=1)
    assert history["round"] == [0, 1, 2, 3]


def test_full_participation_matches_our_fedavg(monkeypatch, tmp_path):
    """全部客户端参与时两边的抽样相同，客户端的种子也相同：每轮的全局模型应当一致。"""
    if not flower.flower_available():
        pytest.skip("flwr[simulation] 未安装")
    config = flower.FlowerConfig(
        rounds=2, num_clients=3, fraction=1.0, epochs=1, batch_size=20, lr=0.1,
        n_train=300, n_test=200, dataset="synthetic",
    )  # fmt: skip
    x, y, x_test, y_test, parts = flower.load_data(config)
    torch.manual_seed(config.seed)
    model = mnist_2nn()
    ours = fedavg.fedavg(
        model, x, y, parts, rounds=config.rounds, fraction=1.0, epochs=1, batch_size=20,
        lr=0.1, test=(x_test, y_test), seed=config.seed,
    )  # fmt: skip
    theirs = flower.run_flower_fedavg(config, log_dir=tmp_path, timeout=600)
    assert theirs["round"] == [0, 1, 2]
    # Flower 用自己的代码做加权平均（求和顺序、精度不同），只在舍入误差内一致。
    assert theirs["test_acc"][1:] == pytest.approx(ours["test_acc"], abs=0.01)
    assert theirs["test_loss"][1:] == pytest.approx(ours["test_loss"], rel=1e-4)
