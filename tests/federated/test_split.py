"""dlzh.federated.split：每个样本恰好分给一个客户端；类别内分片时每个客户端至多两个标签。"""

from __future__ import annotations

import pytest
import torch

from dlzh.federated.split import iid_split, label_counts, shard_split


def _labels_like_mnist(seed: int = 0) -> torch.Tensor:
    # 各类数目与 MNIST 训练集相同（5421~6742，都不是 300 的倍数），顺序打乱。
    counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    labels = torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]


def _assert_partition(parts: list[torch.Tensor], n: int) -> None:
    everything = torch.cat(parts)
    assert len(everything) == n
    assert torch.equal(torch.sort(everything).values, torch.arange(n))


def test_iid_split_is_a_partition_of_nearly_equal_sizes():
    parts = iid_split(1003, 10, seed=1)
    _assert_partition(parts, 1003)
    assert {len(p) for p in parts} == {100, 101}


@pytest.mark.parametrize("within_label", [True, False])
def test_shard_split_gives_every_example_to_exactly_one_client(within_label):
    labels = _labels_like_mnist()
    parts = shard_split(labels, 100, within_label=within_label)
    assert len(parts) == 100
    _assert_partition(parts, len(labels))


def test_shards_within_labels_give_each_client_at_most_two_labels():
    labels = _labels_like_mnist()
    parts = shard_split(labels, 100)
    counts = label_counts(labels, parts)
    assert max(counts) <= 2
    # 分片大小由各类样本数按比例决定，只差几个样本：每个客户端仍约 600 张。
    sizes = torch.tensor([len(p) for p in parts])
    assert 540 <= sizes.min() and sizes.max() <= 680


def test_contiguous_shards_of_the_paper_can_straddle_two_labels():
    """原文的连续切片：类别数目不是 300 的倍数时，有的客户端拿到 3 个或更多标签。"""
    labels = _labels_like_mnist()
    counts = label_counts(labels, shard_split(labels, 100, within_label=False))
    assert max(counts) > 2
    assert sum(c <= 2 for c in counts) > 80  # 但“大多数客户端只有两个数字”仍然成立


def test_shard_split_rejects_more_shards_than_examples():
    with pytest.raises(ValueError, match="客户端数"):
        shard_split(torch.zeros(10, dtype=torch.long), 10, shards_per_client=2)
