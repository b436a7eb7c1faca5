"""可以用 torchrun 启动的多进程演示脚本（CPU + gloo，2 个进程即可运行）。

书页和测试通过 :func:`dlzh.distributed.run_torchrun` 启动它们，例如::

    from dlzh.distributed import DDP_CHECK, run_torchrun
    print(run_torchrun(DDP_CHECK, nproc=2, timeout=120))

每个脚本逐行打印 ``CHECK <名称> rank=<r> ... ok=True/False`` 形式的结果，
任何一项检查失败都以非零退出码结束。
"""

from __future__ import annotations

from pathlib import Path

DEMOS = Path(__file__).parent
DDP_CHECK = DEMOS / "ddp_check.py"
ZERO_CHECK = DEMOS / "zero_check.py"

__all__ = ["DDP_CHECK", "DEMOS", "ZERO_CHECK", "parse_checks", "report_checks"]


def report_checks(results: list[tuple[str, str, bool]]) -> int:
    """在进程组里汇总各 rank 的检查结果，由 rank 0 按 :func:`parse_checks` 读的格式打印。

    ``results`` 是本进程的 ``(名称, 细节, 是否通过)`` 列表。所有进程都要调用（内含集合通信），
    调用后进程组被销毁；返回退出码：全部通过为 0，否则为 1。
    """
    import torch.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    gathered: list = [None] * world
    dist.all_gather_object(gathered, results)
    all_ok = all(ok for per_rank in gathered for *_, ok in per_rank)
    if rank == 0:
        print(f"world_size={world} backend={dist.get_backend()}", flush=True)
        for r, per_rank in enumerate(gathered):
            for name, detail, ok in per_rank:
                print(f"CHECK {name} rank={r} {detail} ok={ok}", flush=True)
        print(f"ALL_OK={all_ok}", flush=True)
    dist.destroy_process_group()
    return 0 if all_ok else 1


def parse_checks(output: str) -> list[dict[str, str]]:
    """把演示脚本输出中的 ``CHECK`` 行解析成字典，方便页面和测试断言。

    ``"CHECK ddp_grad rank=0 max_diff=1e-08 ok=True"`` ->
    ``{"name": "ddp_grad", "rank": "0", "max_diff": "1e-08", "ok": "True"}``。
    """
    checks = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CHECK":
            continue
        record = {"name": parts[1]}
        record.update(p.split("=", 1) for p in parts[2:] if "=" in p)
        checks.append(record)
    return checks
