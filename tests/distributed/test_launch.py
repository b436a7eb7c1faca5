"""dlzh.distributed.launch（torchrun 启动器）：真正起两个 gloo 进程做一次 all_reduce。"""

from __future__ import annotations

import textwrap

import pytest

from dlzh.distributed import DistributedRunError, run_torchrun

pytestmark = pytest.mark.slow


def test_two_process_all_reduce(tmp_path):
    script = tmp_path / "allreduce.py"
    script.write_text(
        textwrap.dedent("""
        import os
        import torch
        import torch.distributed as dist
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        x = torch.tensor([float(rank + 1)])
        dist.all_reduce(x)
        print(f"rank={rank} world={dist.get_world_size()} sum={x.item():.0f}", flush=True)
        dist.destroy_process_group()
    """)
    )
    out = run_torchrun(script, nproc=2, timeout=120)
    assert "rank=0 world=2 sum=3" in out and "rank=1 world=2 sum=3" in out


def test_failure_and_timeout_are_reported(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("raise SystemExit(3)\n")
    with pytest.raises(DistributedRunError, match="退出码"):
        run_torchrun(bad, nproc=1, timeout=60)
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(30)\n")
    with pytest.raises(DistributedRunError, match="超过"):
        run_torchrun(slow, nproc=1, timeout=3)
