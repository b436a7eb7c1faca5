"""实验记录：TensorBoard 写入的标量能原样读回；wandb 的 disabled / offline 模式不联网。"""

from __future__ import annotations

import contextlib
import io

import pytest


def test_tensorboard_scalars_round_trip(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    values = [1.0, 0.5, 0.25, 0.125]
    writer = SummaryWriter(log_dir=tmp_path / "run")
    for step, v in enumerate(values):
        writer.add_scalar("train/loss", v, global_step=step)
    writer.add_scalars("acc", {"train": 0.9, "test": 0.8}, global_step=0)
    writer.close()

    acc = EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert "train/loss" in acc.Tags()["scalars"]
    events = acc.Scalars("train/loss")
    assert [e.step for e in events] == [0, 1, 2, 3]
    assert [e.value for e in events] == values  # 这些值在 float32 中可精确表示
    # add_scalars 为每条曲线写一个子目录
    sub_dirs = sorted(p.name for p in (tmp_path / "run").iterdir() if p.is_dir())
    assert sub_dirs == ["acc_test", "acc_train"]


def test_wandb_disabled_and_offline_modes(tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.delenv("WANDB_MODE", raising=False)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        run = wandb.init(mode="disabled", config={"lr": 0.1})
        run.log({"loss": 1.0})
        assert run.config.lr == 0.1
        run.finish()
        assert not (tmp_path / "wandb").exists()  # disabled 不写任何文件

        run = wandb.init(mode="offline", project="tips", dir=tmp_path, config={"lr": 0.1})
        for loss in [1.0, 0.5, 0.25]:
            run.log({"loss": loss})  # 不指定 step 时每次 log 立即提交
        assert run.summary["loss"] == 0.25
        run_dir = run.dir
        run.finish()
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and str(runs[0]) in run_dir
    assert list(runs[0].glob("run-*.wandb")), "离线运行应在本地留下 .wandb 记录文件"
    assert err.getvalue() == ""


def test_visdom_offline_log_if_installed(tmp_path):
    visdom = pytest.importorskip(
        "visdom", reason="visdom 未安装（见 book/tips/experiment-tracking.md）"
    )
    import json

    import numpy as np

    log = tmp_path / "visdom.log"
    vis = visdom.Visdom(offline=True, log_to_filename=str(log))
    vis.line(X=np.arange(3), Y=np.array([1.0, 0.5, 0.25]), win="loss")
    endpoint, payload = json.loads(log.read_text().splitlines()[0])
    assert endpoint == "events" and payload["data"][0]["y"] == [1.0, 0.5, 0.25]
