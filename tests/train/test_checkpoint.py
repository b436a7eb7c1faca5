"""dlzh.train.checkpoint：保存/恢复往返、原子写入，以及只接受 weights_only=True 读得回的内容。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import Checkpoint, fit, load_checkpoint, save_checkpoint


def _data(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 2, (n,), generator=g)


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


class _Opaque:
    """没有 state_dict() 的普通对象：torch.save 能存，weights_only=True 却读不回。"""


def test_objects_that_weights_only_cannot_load_are_refused_when_saving(tmp_path):
    path = tmp_path / "bad.pt"
    with pytest.raises(TypeError, match=r"notes\['extra'\]"):
        save_checkpoint(path, nn.Linear(2, 2), notes={"ok": 1, "extra": _Opaque()})
    assert not path.exists()  # 报错发生在写文件之前


def test_plain_values_and_state_dicts_round_trip(tmp_path):
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    for _ in range(4):
        optimizer.step()
        scheduler.step()
    path = save_checkpoint(
        tmp_path / "ok.pt",
        model,
        optimizer,
        scheduler=scheduler,
        epoch=4,
        tag="run-1",
        dtype=torch.float32,
    )
    fresh_model = nn.Linear(2, 2)
    fresh_opt = torch.optim.SGD(fresh_model.parameters(), lr=0.1)
    fresh_sched = torch.optim.lr_scheduler.StepLR(fresh_opt, step_size=3, gamma=0.5)
    rest = load_checkpoint(path, fresh_model, fresh_opt, scheduler=fresh_sched)
    assert rest == {"epoch": 4, "tag": "run-1", "dtype": torch.float32}
    assert fresh_sched.last_epoch == 4 and fresh_opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "last.pt", nn.Linear(2, 2), epoch=1)

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, nn.Linear(2, 2), epoch=2)
    monkeypatch.undo()
    assert load_checkpoint(path, nn.Linear(2, 2)) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_missing_checkpoint_has_a_bilingual_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"不存在.*does not exist"):
        load_checkpoint(tmp_path / "nope.pt", nn.Linear(2, 2))
