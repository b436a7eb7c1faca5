"""28x28 灰度图像数据集：Fashion-MNIST 和 MNIST。

两者的官方文件都是 4 个 IDX ``.gz`` 文件，直接解析进内存张量。
"""

from __future__ import annotations

from functools import lru_cache

import torch

from dlzh.data.download import fetch
from dlzh.data.idx import read_idx
from dlzh.data.loader import TensorLoader, balanced_subset, resize_batch
from dlzh.data.registry import DatasetSpec

FASHION_MNIST_LABELS = (
    "T恤",
    "裤子",
    "套衫",
    "连衣裙",
    "外套",
    "凉鞋",
    "衬衫",
    "运动鞋",
    "包",
    "短靴",
)

_SPLITS = {"train": "train", "test": "t10k"}


@lru_cache(maxsize=8)
def _load_idx_pair(dataset: str | DatasetSpec, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    # 解析结果按 (数据集, 划分) 缓存在进程内：同一页多次取数据时不必重复解压。
    if split not in _SPLITS:
        raise ValueError(
            f"split 只能是 'train' 或 'test'，收到 {split!r} / split must be train|test"
        )
    prefix = _SPLITS[split]
    images = read_idx(fetch(dataset, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(fetch(dataset, f"{prefix}-labels-idx1-ubyte.gz")).long()
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{dataset}/{split}: 图像 {images.shape[0]} 张，标签 {labels.shape[0]} 个")
    return images, labels


def load_image_split(
    dataset: str | DatasetSpec, split: str, n: int | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """返回 ``(images, labels)``：images 为 ``(N, 1, 28, 28)`` 的 float32，取值 [0, 1]。

    ``n`` 给定时取一个类别均衡、由 ``seed`` 决定的子集（quick 档位使用）。
    """
    images, labels = _load_idx_pair(dataset, split)
    if n is not None and n < len(labels):
        idx = balanced_subset(labels, n, seed=seed)
        images, labels = images[idx], labels[idx]
    return images.unsqueeze(1).float().div_(255.0), labels


def load_fashion_mnist(
    batch_size: int,
    *,
    resize: int | tuple[int, int] | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
) -> tuple[TensorLoader, TensorLoader]:
    """Fashion-MNIST 的训练和测试迭代器（训练集打乱，测试集按原顺序）。

    ``resize`` 在每个批量上插值，供需要 224x224 或 96x96 输入的网络使用。
    """
    return _image_loaders("fashion-mnist", batch_size, resize, n_train, n_test, seed)


def load_mnist(
    batch_size: int,
    *,
    resize: int | tuple[int, int] | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
) -> tuple[TensorLoader, TensorLoader]:
    """MNIST 的训练和测试迭代器，接口与 :func:`load_fashion_mnist` 相同。"""
    return _image_loaders("mnist", batch_size, resize, n_train, n_test, seed)


def _image_loaders(dataset, batch_size, resize, n_train, n_test, seed):
    transform = resize_batch(resize) if resize is not None else None
    x_train, y_train = load_image_split(dataset, "train", n_train, seed)
    x_test, y_test = load_image_split(dataset, "test", n_test, seed)
    train = TensorLoader(x_train, y_train, batch_size, shuffle=True, seed=seed, transform=transform)
    test = TensorLoader(x_test, y_test, batch_size, shuffle=False, transform=transform)
    return train, test


def fashion_mnist_text_labels(labels: torch.Tensor | list[int]) -> list[str]:
    """把数字标签换成中文类别名。"""
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]
