"""PyTorch 自带的 ZeRO：``ZeroRedundancyOptimizer``（ZeRO-1）与 FSDP（参数也分片），多进程检查。

1. ``ZeroRedundancyOptimizer(optimizer_class=Adam)`` 配合 DDP 训练几步，参数与单进程、
   整个批量上的普通 Adam 相同（在浮点误差内）。
2. 优化器状态（Adam 的一阶、二阶矩）按参数分给各进程：每个进程只存一部分，
   各进程加起来正好是普通 Adam 的全部状态。
3. （可选，``--fsdp``）``fully_shard``（FSDP2）把**参数本身**也按第 0 维切开，
   每个进程只存一片；训练结果同样等于普通 Adam。

启动::

    torchrun --standalone --nproc-per-node=2 zero_check.py [--fsdp]

rank 0 打印 ``CHECK <名称> rank=<r> ... ok=<True|False>``；任何一项失败，所有进程以退出码 1 结束。
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel as DDP

from dlzh.distributed.demos import report_checks

TOL = 1e-5
BATCH, STEPS, LR = 16, 5, 1e-2


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))


def make_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, 8, generator=g), torch.randint(0, 3, (BATCH,), generator=g)


def state_numel(optimizer: torch.optim.Optimizer) -> int:
    """优化器状态里张量元素的总数（不计标量 ``step``）。"""
    return sum(
        v.numel()
        for state in optimizer.state.values()
        for k, v in state.items()
        if k != "step" and torch.is_tensor(v)
    )


def train_reference(X: torch.Tensor, y: torch.Tensor) -> tuple[nn.Module, int]:
    """单进程、整个批量、普通 Adam：ZeRO 和 FSDP 都应当复现它。"""
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model, state_numel(opt)


def max_param_diff(a: dict[str, torch.Tensor], b: nn.Module) -> float:
    return max((a[n].detach() - p.detach()).abs().max().item() for n, p in b.named_parameters())


def check_zero1(X, y, shard, reference, ref_state) -> list[tuple[str, str, bool]]:
    ddp = DDP(make_model())
    zero = ZeroRedundancyOptimizer(ddp.parameters(), optimizer_class=torch.optim.Adam, lr=LR)
    for _ in range(STEPS):
        zero.zero_grad()
        nn.functional.cross_entropy(ddp(X[shard]), y[shard]).backward()
        zero.step()  # 每个进程只更新自己那部分参数，再广播给其他进程
    params = {n: p for n, p in ddp.module.named_parameters()}
    diff = max_param_diff(params, reference)
    local = state_numel(zero.optim)  # zero.optim：本进程持有的那个“局部”Adam
    totals = torch.tensor([local])
    dist.all_reduce(totals)
    world = dist.get_world_size()
    ok_state = totals.item() == ref_state and (world == 1 or local < ref_state)
    n_local = sum(len(g["params"]) for g in zero.optim.param_groups)
    return [
        ("zero1_matches_adam", f"max_diff={diff:.2e} steps={STEPS}", diff < TOL),
        (
            "zero1_state_sharded",
            f"local_state={local} sum_over_ranks={totals.item()} adam_state={ref_state}"
            f" local_params={n_local}",
            ok_state,
        ),
    ]


def check_fsdp(X, y, shard, reference) -> list[tuple[str, str, bool]]:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    model = make_model()
    total = sum(p.numel() for p in model.parameters())
    for layer in model:
        if any(True for _ in layer.parameters()):
            fully_shard(layer, mesh=mesh)  # 每层一个单元：前向时才临时凑齐这一层的参数
    fully_shard(model, mesh=mesh)
    local = sum(p.to_local().numel() for p in model.parameters())  # 本进程实际存的参数
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[shard]), y[shard]).backward()
        opt.step()
    full = {n: p.full_tensor() for n, p in model.named_parameters()}  # 集合通信，凑齐整份参数
    diff = max_param_diff(full, reference)
    world = dist.get_world_size()
    return [
        ("fsdp_matches_adam", f"max_diff={diff:.2e} steps={STEPS}", diff < TOL),
        (
            "fsdp_params_sharded",
            f"local_params={local} full_params={total}",
            world == 1 or local < total,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fsdp", action="store_true", help="同时检查 FSDP2（fully_shard）")
    args = parser.parse_args()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    X, y = make_data()
    shard = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    reference, ref_state = train_reference(X, y)
    results = check_zero1(X, y, shard, reference, ref_state)
    if args.fsdp:
        results += check_fsdp(X, y, shard, reference)

    return report_checks(results)


if __name__ == "__main__":
    sys.exit(main())
