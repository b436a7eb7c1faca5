"""联邦平均 FedAvg（McMahan 等，2017）：服务器每轮抽一部分客户端，各自在本地数据上训练若干
迭代周期，再按数据量加权平均它们的参数。

- 本地训练就是 :func:`dlzh.train.fit`，不另写训练循环：FedAvg 与集中式训练的差别只在
  “谁的数据、训练多久、怎样合并”，这样两者的比较才公平（同一个优化器、同一个损失）。
- 每个客户端每轮的打乱顺序由 :func:`client_seed` 决定，整个实验可复现；测试据此验证
  “一个客户端、E=1、全部参与”时 FedAvg 与集中式 SGD 逐位相同。
- 加权平均在 float64 中累加再转回原类型：客户端数多时，float32 逐个相加的舍入误差会依赖相加顺序。
- 冒烟模式下只跑 :data:`dlzh.profile.SMOKE_BATCHES` 轮（:func:`smoke_rounds`）：``fit`` 已把每个客户端的
  本地训练截成几个批量，但每轮之后的测试评估和客户端的准备照样进行，full 档位的 50 轮 CNN 实验在 CPU 上
  仍要几分钟，而检查代码路径两轮就够了。
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from dlzh.data.loader import TensorLoader
from dlzh.train.loop import evaluate, fit

__all__ = [
    "client_seed",
    "client_update",
    "fedavg",
    "sample_clients",
    "smoke_rounds",
    "weighted_average",
]


def smoke_rounds(rounds: int) -> int:
    """冒烟模式下实际运行的通信轮数（至多 :data:`dlzh.profile.SMOKE_BATCHES` 轮，并打印一行说明）；
    其他模式原样返回。Flower 的模拟也用它，两种实现截得一样。"""
    from dlzh.profile import SMOKE_BATCHES, is_smoke

    if is_smoke() and rounds > SMOKE_BATCHES:
        print(
            f"冒烟模式：只运行 {SMOKE_BATCHES} 轮（设置为 {rounds} 轮），只检查代码路径。",
            flush=True,
        )
        return SMOKE_BATCHES
    return rounds


def weighted_average(
    states: Sequence[Mapping[str, Tensor]], weights: Sequence[float]
) -> dict[str, Tensor]:
    """按权重（通常是各客户端的样本数 :math:`n_k`）平均若干个 ``state_dict``：
    :math:`w = \\sum_k \\frac{n_k}{n} w_k`。整数缓冲区（如批量规范化的计数）取第一个客户端的值。
    """
    if not states or len(states) != len(weights):
        raise ValueError(
            f"需要同样多的参数字典和权重，收到 {len(states)} 个字典、{len(weights)} 个权重。"
            f" / states and weights must be non-empty and of equal length."
        )
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError(
            "权重必须非负且和为正。 / weights must be non-negative with a positive sum."
        )
    averaged: dict[str, Tensor] = {}
    for key, first in states[0].items():
        if not torch.is_floating_point(first):
            averaged[key] = first.clone()
            continue
        acc = torch.zeros_like(first, dtype=torch.float64)
        for state, weight in zip(states, weights, strict=True):
            acc += state[key].to(torch.float64) * (float(weight) / total)
        averaged[key] = acc.to(first.dtype)
    return averaged


def sample_clients(num_clients: int, fraction: float, generator: torch.Generator) -> list[int]:
    """每轮抽 :math:`m = \\max(\\lfloor C K \\rceil, 1)` 个客户端（不放回）；C=0 表示每轮一个。"""
    if not 0 <= fraction <= 1:
        raise ValueError(
            f"fraction（C）应在 [0, 1] 内，收到 {fraction} / fraction must be in [0, 1]"
        )
    m = max(round(fraction * num_clients), 1)
    return sorted(torch.randperm(num_clients, generator=generator)[:m].tolist())


def client_seed(seed: int, round_index: int, client: int) -> int:
    """第 ``round_index`` 轮第 ``client`` 个客户端打乱数据用的种子（各轮、各客户端互不相同）。"""
    return seed * 1_000_003 + round_index * 10_007 + client


def client_update(
    model: nn.Module,
    features: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    batch_size: int | None,
    lr: float,
    seed: int,
    device: torch.device | None = None,
    divisor: float | None = None,
) -> dict[str, Tensor]:
    """从全局模型的一份拷贝出发，在一个客户端的数据上用小批量 SGD 训练 ``epochs`` 个迭代周期，
    返回训练后的参数。``batch_size=None`` 即原文的 B=∞（每个迭代周期一步全批量梯度下降）。"""
    local = copy.deepcopy(model)
    loader = TensorLoader(
        features, labels, batch_size or len(labels), shuffle=True, seed=seed, divisor=divisor
    )
    optimizer = torch.optim.SGD(local.parameters(), lr=lr)
    fit(local, loader, epochs, optimizer=optimizer, device=device, verbose=False)
    return local.state_dict()


def fedavg(
    model: nn.Module,
    features: Tensor,
    labels: Tensor,
    parts: Sequence[Tensor],
    *,
    rounds: int,
    fraction: float,
    epochs: int,
    batch_size: int | None,
    lr: float,
    test: tuple[Tensor, Tensor] | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    divisor: float | None = None,
    print_every: int = 0,
) -> dict[str, list]:
    """在 ``parts``（每个客户端的样本下标）上运行 ``rounds`` 轮 FedAvg，原地更新 ``model``。

    返回历史字典：``round``、``clients``（每轮被抽中的客户端）、``seconds``（累计用时），
    给了 ``test`` 时还有每轮之后全局模型的 ``test_loss``、``test_acc``。画图时横轴用 ``history["round"]``：
    冒烟模式下实际轮数少于 ``rounds``。
    ``print_every=k`` 时每 k 轮打印一行进度（长实验要让读者看到它在走）。
    """
    if rounds < 1:
        raise ValueError(f"rounds 必须 >= 1，收到 {rounds} / rounds must be >= 1")
    rounds = smoke_rounds(rounds)
    generator = torch.Generator().manual_seed(seed)
    sizes = [len(p) for p in parts]
    test_iter = TensorLoader(test[0], test[1], 1000, divisor=divisor) if test is not None else None
    history: dict[str, list] = {"round": [], "clients": [], "seconds": []}
    if test_iter is not None:
        history.update(test_loss=[], test_acc=[])
    start = time.perf_counter()
    for r in range(1, rounds + 1):
        chosen = sample_clients(len(parts), fraction, generator)
        states = [
            client_update(
                model,
                features[parts[k]],
                labels[parts[k]],
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                seed=client_seed(seed, r, k),
                device=device,
                divisor=divisor,
            )
            for k in chosen
        ]
        model.load_state_dict(weighted_average(states, [sizes[k] for k in chosen]))
        history["round"].append(r)
        history["clients"].append(chosen)
        history["seconds"].append(time.perf_counter() - start)
        if test_iter is not None:
            metrics = evaluate(model, test_iter, loss_fn=nn.CrossEntropyLoss(), device=device)
            history["test_loss"].append(metrics["loss"])
            history["test_acc"].append(metrics["accuracy"])
        if print_every and (r % print_every == 0 or r == rounds):
            acc = f"，测试准确率 {history['test_acc'][-1]:.3f}" if test_iter is not None else ""
            print(f"第 {r:3d}/{rounds} 轮{acc}，用时 {history['seconds'][-1]:.1f} 秒", flush=True)
    return history
