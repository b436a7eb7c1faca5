"""dlzh.train.history：按列取值、键的顺序、最后一条记录。"""

from __future__ import annotations

from dlzh.train import History


def test_columns_skip_records_without_the_key_and_keys_keep_order():
    history = History()
    history.append({"epoch": 1.0, "train_loss": 0.9})
    history.append({"epoch": 2.0, "train_loss": 0.5, "test_acc": 0.7})
    assert history["train_loss"] == [0.9, 0.5] and history["test_acc"] == [0.7]
    assert history.keys() == ["epoch", "train_loss", "test_acc"] and len(history) == 2
    assert history.last == {"epoch": 2.0, "train_loss": 0.5, "test_acc": 0.7}


def test_append_copies_the_record():
    history, record = History(), {"epoch": 1.0}
    history.append(record)
    record["epoch"] = 99.0  # 训练循环会复用 epoch_record：历史里的那条不能跟着变
    assert history["epoch"] == [1.0] and History().last == {}
