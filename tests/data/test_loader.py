"""内存迭代器与确定性子集。"""

from __future__ import annotations

import torch

from dlzh.data import TensorLoader, balanced_subset, resize_batch


def test_each_example_once_per_epoch_and_reproducible():
    x = torch.arange(23).float().unsqueeze(1)
    y = torch.arange(23)
    a = TensorLoader(x, y, 5, shuffle=True, seed=3)
    b = TensorLoader(x, y, 5, shuffle=True, seed=3)
    assert len(a) == 5
    epoch1 = torch.cat([yb for _, yb in a])
    epoch2 = torch.cat([yb for _, yb in a])
    assert sorted(epoch1.tolist()) == list(range(23))
    assert not torch.equal(epoch1, epoch2)  # 不同 epoch 顺序不同
    assert torch.equal(epoch1, torch.cat([yb for _, yb in b]))  # 同一种子可复现


def test_features_stay_paired_with_labels():
    x = torch.arange(10).float().unsqueeze(1) * 10
    y = torch.arange(10)
    for xb, yb in TensorLoader(x, y, 4, shuffle=True, seed=1):
        assert torch.equal(xb[:, 0], yb.float() * 10)


def test_drop_last_and_unshuffled_order():
    x, y = torch.zeros(10, 1), torch.arange(10)
    assert len(TensorLoader(x, y, 4, drop_last=True)) == 2
    assert torch.cat([yb for _, yb in TensorLoader(x, y, 4)]).tolist() == list(range(10))


def test_balanced_subset_is_balanced_and_deterministic():
    labels = torch.arange(1000) % 10
    idx = balanced_subset(labels, 200, seed=7)
    assert len(idx) == 200
    assert torch.bincount(labels[idx]).tolist() == [20] * 10
    assert torch.equal(idx, balanced_subset(labels, 200, seed=7))
    assert not torch.equal(idx, balanced_subset(labels, 200, seed=8))


def test_resize_batch_shape():
    out = resize_batch(32)(torch.rand(3, 1, 28, 28))
    assert tuple(out.shape) == (3, 1, 32, 32)


def test_mismatched_lengths_raise():
    import pytest

    with pytest.raises(ValueError, match="一样多"):
        TensorLoader(torch.zeros(3, 1), torch.zeros(2), 2)


def test_balanced_subset_returns_exactly_n_rows_when_n_is_not_a_multiple():
    labels = torch.arange(1000) % 10
    for n in (17, 95, 101):
        idx = balanced_subset(labels, n, seed=3)
        assert len(idx) == n and len(torch.unique(idx)) == n
        counts = torch.bincount(labels[idx], minlength=10)
        assert int(counts.max() - counts.min()) <= 1  # 各类至多相差一个
        assert torch.equal(idx, balanced_subset(labels, n, seed=3))


def test_balanced_subset_raises_instead_of_returning_fewer_rows():
    import pytest

    labels = torch.cat([torch.zeros(50), torch.ones(3)]).long()  # 类别 1 只有 3 个样本
    with pytest.raises(ValueError, match="类别 1"):
        balanced_subset(labels, 20)
    with pytest.raises(ValueError, match="smaller than the number of classes"):
        balanced_subset(labels, 1)


def test_divisor_converts_each_batch_exactly_like_converting_everything_first():
    pixels = torch.randint(0, 256, (23, 1, 4, 4), dtype=torch.uint8)
    y = torch.arange(23)
    stored = TensorLoader(pixels, y, 5, shuffle=True, seed=2, divisor=255.0)
    converted = TensorLoader(pixels.float().div(255.0), y, 5, shuffle=True, seed=2)
    for (xa, ya), (xb, yb) in zip(stored, converted, strict=True):
        assert xa.dtype == torch.float32 and torch.equal(xa, xb) and torch.equal(ya, yb)
    assert torch.equal(stored.features, converted.features)
    assert stored.num_examples == 23 and len(stored) == 5
