"""把一个数据集分给若干客户端：独立同分布（IID）划分与按标签分片的非独立同分布划分。

McMahan 等人（2017）在 MNIST 上的非 IID 划分：按标签排序，切成 200 个 300 张的分片，每个客户端
拿 2 片，于是“大多数客户端只有两个数字”。MNIST 各类的样本数（5421~6742）不是 300 的倍数，
按原文直接连续切片时，有的分片跨过两个类别的边界，少数客户端会拿到 3 个标签。
:func:`shard_split` 默认在**每个类别内部**切片（各类的分片数按样本数比例分配），保证每个
客户端至多两个标签；``within_label=False`` 给出原文的连续切片，页面上比较两者。
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["iid_split", "label_counts", "shard_split"]


def _check_partition(num_clients: int, n: int) -> None:
    if num_clients <= 0 or num_clients > n:
        raise ValueError(
            f"客户端数必须在 1 到样本数 {n} 之间，收到 {num_clients}。"
            f" / num_clients must be between 1 and the number of examples ({n})."
        )


def iid_split(n: int, num_clients: int, *, seed: int = 0) -> list[Tensor]:
    """把下标 ``0..n-1`` 随机打乱后均分给 ``num_clients`` 个客户端（大小至多相差 1）。"""
    _check_partition(num_clients, n)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return list(torch.tensor_split(perm, num_clients))


def _largest_remainder(counts: Tensor, total: int) -> Tensor:
    """把 ``total`` 个分片按 ``counts`` 的比例分给各类别，取整用最大余数法（和恰好为 total）。"""
    exact = counts.double() * total / counts.sum()
    base = exact.floor().long()
    order = torch.argsort(exact - base, descending=True, stable=True)
    base[order[: total - int(base.sum())]] += 1
    return base


def shard_split(
    labels: Tensor,
    num_clients: int,
    *,
    shards_per_client: int = 2,
    within_label: bool = True,
    seed: int = 0,
) -> list[Tensor]:
    """按标签分片的非 IID 划分：共 ``num_clients * shards_per_client`` 个分片，每个客户端随机拿
    ``shards_per_client`` 片。每个样本恰好属于一个客户端。

    ``within_label=True``：分片不跨类别（每类按样本数比例分到若干片，片的大小相差很小），
    每个客户端至多 ``shards_per_client`` 个标签。``within_label=False``：原文的做法，按标签
    排序后连续等分。
    """
    labels = torch.as_tensor(labels)
    num_shards = num_clients * shards_per_client
    _check_partition(num_shards, len(labels))
    order = torch.argsort(labels, stable=True)
    if within_label:
        _, counts = torch.unique(labels, return_counts=True)
        per_class = _largest_remainder(counts, num_shards)
        if (per_class > counts).any() or (per_class == 0).any():
            raise ValueError(
                "有的类别样本太少，无法在类别内部切出分片；请减少分片数或用 within_label=False。"
                " / some class is too small to be split into its shards."
            )
        shards: list[Tensor] = []
        for cls_idx, k in zip(torch.split(order, counts.tolist()), per_class.tolist(), strict=True):
            shards.extend(torch.tensor_split(cls_idx, k))
    else:
        shards = list(torch.tensor_split(order, num_shards))
    perm = torch.randperm(num_shards, generator=torch.Generator().manual_seed(seed))
    return [
        torch.cat(
            [shards[int(s)] for s in perm[c * shards_per_client : (c + 1) * shards_per_client]]
        )
        for c in range(num_clients)
    ]


def label_counts(labels: Tensor, parts: list[Tensor]) -> list[int]:
    """每个客户端拥有的不同标签个数。"""
    return [int(torch.unique(labels[p]).numel()) for p in parts]
