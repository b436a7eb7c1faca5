"""dlzh.train.checks：训练页面的“学会了吗”断言。"""

from __future__ import annotations

import pytest

from dlzh.train import History, NotLearnedError, assert_learned


def _history(losses, test_acc=None):
    history = History()
    for i, loss in enumerate(losses):
        record = {"epoch": float(i + 1), "train_loss": loss}
        if test_acc is not None:
            record["test_acc"] = test_acc[i]
        history.append(record)
    return history


def test_passes_when_loss_drops_and_accuracy_clears_the_floor(monkeypatch, capsys):
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    line = assert_learned(_history([2.3, 0.9, 0.5], [0.4, 0.7, 0.82]), min_test_acc=0.8)
    assert line.startswith("学习检查通过") and "test_acc 0.820" in capsys.readouterr().out


def test_a_flat_loss_or_chance_accuracy_fails(monkeypatch):
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    with pytest.raises(NotLearnedError, match="train_loss"):
        assert_learned(_history([2.30, 2.29, 2.30]))  # 停在 ln 10：没学到东西
    with pytest.raises(NotLearnedError, match=r"0\.100"):
        assert_learned(_history([2.3, 1.0], [0.1, 0.1]), min_test_acc=0.5)


def test_dict_history_single_epoch_and_missing_columns(monkeypatch):
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    assert_learned({"train_loss": [0.4]}, initial_loss=2.3)
    with pytest.raises(ValueError, match="initial_loss"):
        assert_learned({"train_loss": [0.4]})
    with pytest.raises(ValueError, match="test_acc"):
        assert_learned({"train_loss": [2.0, 1.0]}, min_test_acc=0.5)


def test_smoke_mode_skips_the_check(monkeypatch):
    monkeypatch.setenv("DLZH_SMOKE", "1")
    assert "冒烟模式" in assert_learned(_history([2.3, 2.3]), min_test_acc=0.99)
