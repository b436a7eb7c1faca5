"""DDP 的三个性质，在 CPU 上用 gloo 后端和真实的多进程检查（用 torchrun 启动）。

1. 构造 DDP 时把 rank 0 的参数广播给所有进程：各进程初值不同也没关系。
2. 每个进程只算自己那一份数据，反向传播时 DDP 对梯度做 all-reduce 求平均；
   各份大小相同时，结果等于单进程在整个批量上的梯度。
3. 梯度累加：前 k-1 个小批量放进 ``no_sync()``（只在本地累加、不通信），
   最后一个小批量正常反向时才同步，累加结果同样等于整个批量的梯度。

启动::

    torchrun --standalone --nproc-per-node=2 ddp_check.py

rank 0 打印 ``CHECK <名称> rank=<r> ... ok=<True|False>``；任何一项失败，所有进程以退出码 1 结束。
"""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from dlzh.distributed.demos import report_checks

TOL = 1e-6
BATCH = 16  # 全局批量：能被 world_size * ACCUM 整除
ACCUM = 2  # 梯度累加的小批量个数


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))


def make_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, 8, generator=g), torch.randint(0, 3, (BATCH,), generator=g)


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def spread_across_ranks(vector: torch.Tensor) -> float:
    """各进程上同一个向量的最大差异（0 表示完全一致）。"""
    gathered = [torch.empty_like(vector) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, vector)
    return max((g - gathered[0]).abs().max().item() for g in gathered)


def main() -> int:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if BATCH % (world * ACCUM):
        raise SystemExit(f"BATCH={BATCH} 不能被 world_size*ACCUM={world * ACCUM} 整除")
    loss_fn = nn.CrossEntropyLoss()  # 对批量取平均
    X, y = make_data()
    shard = slice(rank * BATCH // world, (rank + 1) * BATCH // world)  # 本进程的那一份
    results: list[tuple[str, str, bool]] = []

    # 1. 参数广播：故意让每个进程用不同的种子初始化。
    before = spread_across_ranks(flat(make_model(seed=rank).parameters()))
    ddp = DDP(make_model(seed=rank))
    after = spread_across_ranks(flat(ddp.parameters()))
    ok = after == 0.0 and (world == 1 or before > 0)
    results.append(
        ("ddp_broadcasts_rank0_params", f"spread_before={before:.2e} spread_after={after:.2e}", ok)
    )

    # 参照：单进程、整个批量。
    reference = make_model(seed=0)
    loss_fn(reference(X), y).backward()
    full_grad = flat(p.grad for p in reference.parameters())

    # 2. DDP：每个进程只看 BATCH/world 个样本。
    ddp = DDP(make_model(seed=0))
    loss_fn(ddp(X[shard]), y[shard]).backward()
    diff = (flat(p.grad for p in ddp.parameters()) - full_grad).abs().max().item()
    results.append(
        ("ddp_grad_equals_full_batch", f"max_diff={diff:.2e} shard={BATCH // world}", diff < TOL)
    )

    # 3. no_sync 梯度累加：每份再切成 ACCUM 个小批量，损失除以 ACCUM。
    ddp = DDP(make_model(seed=0))
    micro = X[shard].chunk(ACCUM), y[shard].chunk(ACCUM)
    with ddp.no_sync():  # 前 ACCUM-1 个小批量：只在本地累加梯度
        for xb, yb in zip(micro[0][:-1], micro[1][:-1], strict=True):
            (loss_fn(ddp(xb), yb) / ACCUM).backward()
    local = spread_across_ranks(flat(p.grad for p in ddp.parameters()))
    ok = world == 1 or local > 0  # 尚未通信：各进程的梯度不同
    results.append(("no_sync_grads_stay_local", f"spread_across_ranks={local:.2e}", ok))
    (loss_fn(ddp(micro[0][-1]), micro[1][-1]) / ACCUM).backward()  # 最后一个：同步
    diff = (flat(p.grad for p in ddp.parameters()) - full_grad).abs().max().item()
    results.append(
        (
            "no_sync_accumulation_equals_full_batch",
            f"max_diff={diff:.2e} micro_batches={ACCUM}",
            diff < TOL,
        )
    )

    # 4. 一步 SGD 之后，各进程的参数仍然逐位相同（梯度相同、初值相同）。
    torch.optim.SGD(ddp.parameters(), lr=0.1).step()
    spread = spread_across_ranks(flat(ddp.parameters()))
    results.append(
        ("params_identical_after_step", f"spread_across_ranks={spread:.2e}", spread == 0.0)
    )

    return report_checks(results)


if __name__ == "__main__":
    sys.exit(main())
