"""dlzh.distributed.demos：用 torchrun 真实地启动 2 个 gloo 进程运行检查脚本。"""

from __future__ import annotations

import pytest

from dlzh.distributed import DDP_CHECK, DEMOS, ZERO_CHECK, parse_checks, run_torchrun


def test_demo_paths_exist_and_checks_parse():
    assert DDP_CHECK.parent == DEMOS and DDP_CHECK.exists() and ZERO_CHECK.exists()
    checks = parse_checks("noise\nCHECK a rank=0 max_diff=1e-08 ok=True\nCHECK b rank=1 ok=False\n")
    assert checks == [
        {"name": "a", "rank": "0", "max_diff": "1e-08", "ok": "True"},
        {"name": "b", "rank": "1", "ok": "False"},
    ]


@pytest.mark.slow
def test_ddp_gradients_equal_full_batch_and_no_sync_accumulates():
    checks = parse_checks(run_torchrun(DDP_CHECK, nproc=2, timeout=240))
    names = {c["name"] for c in checks}
    assert names == {
        "ddp_broadcasts_rank0_params",
        "ddp_grad_equals_full_batch",
        "no_sync_grads_stay_local",
        "no_sync_accumulation_equals_full_batch",
        "params_identical_after_step",
    }
    assert len(checks) == 10 and all(c["ok"] == "True" for c in checks)
    assert all(float(c["max_diff"]) < 1e-6 for c in checks if "max_diff" in c)


@pytest.mark.slow
def test_zero_redundancy_optimizer_and_fsdp_match_adam_and_shard_state():
    checks = parse_checks(run_torchrun(ZERO_CHECK, "--fsdp", nproc=2, timeout=240))
    assert len(checks) == 8 and all(c["ok"] == "True" for c in checks)
    state = [c for c in checks if c["name"] == "zero1_state_sharded"]
    local = [int(c["local_state"]) for c in state]
    assert sum(local) == int(state[0]["adam_state"]) and max(local) < sum(local)
    shards = [c for c in checks if c["name"] == "fsdp_params_sharded"]
    assert sum(int(c["local_params"]) for c in shards) == int(shards[0]["full_params"])
