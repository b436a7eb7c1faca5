"""28x28 灰度图像数据集：Fashion-MNIST 和 MNIST。

两者的官方文件都是 4 个 IDX ``.gz`` 文件，直接解析进内存张量。
解压和解析（约 0.4 秒）只做一次：解析出的张量以 ``.pt`` 文件存在缓存目录里、
校验过的下载文件旁边，文件名带着来源文件的摘要，所以来源一变它就自动失效。
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import torch

from dlzh.data.download import cache_dir, fetch
from dlzh.data.idx import read_idx
from dlzh.data.loader import TensorLoader, balanced_subset, resize_batch
from dlzh.data.registry import DatasetSpec, get_spec

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
# 解析结果的格式版本：改变解析方式时加一，旧的 .pt 文件就不会再被读取。
_DECODED_VERSION = 1


def decoded_path(dataset: str | DatasetSpec, filename: str) -> Path:
    """解析好的张量的缓存位置：``<缓存>/<数据集>/<文件名>.<算法>-<摘要前 16 位>.v<版本>.pt``。"""
    spec = get_spec(dataset) if isinstance(dataset, str) else dataset
    item = spec.file(filename)
    key = f"{item.algorithm}-{item.digest[:16]}.v{_DECODED_VERSION}"
    return cache_dir() / spec.name / f"{filename}.{key}.pt"


def read_verified_idx(dataset: str | DatasetSpec, filename: str) -> torch.Tensor:
    """读一个登记过的 IDX 文件；第二次起直接读缓存的张量，不再解压、解析，也不再算摘要。

    ``.pt`` 只在来源文件通过校验、解析成功之后才原子地写入，并且按来源摘要命名，
    所以它存在就说明它来自那个摘要的文件。它损坏时删掉重来；缓存目录不可写时只是不加速。
    """
    target = decoded_path(dataset, filename)
    if target.is_file():
        try:
            return torch.load(target, weights_only=True, mmap=True)
        except Exception:  # 写坏了或被截断：删掉，按原路重新解析
            target.unlink(missing_ok=True)
    tensor = read_idx(fetch(dataset, filename))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                torch.save(tensor, handle)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass
    return tensor


@lru_cache(maxsize=8)
def _load_idx_pair(dataset: str | DatasetSpec, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    # 解析结果按 (数据集, 划分) 缓存在进程内：同一页多次取数据时不必重复解压。
    if split not in _SPLITS:
        raise ValueError(
            f"split 只能是 'train' 或 'test'，收到 {split!r} / split must be train|test"
        )
    prefix = _SPLITS[split]
    images = read_verified_idx(dataset, f"{prefix}-images-idx3-ubyte.gz")
    labels = read_verified_idx(dataset, f"{prefix}-labels-idx1-ubyte.gz").long()
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
    else:
        # 进程内缓存的标签张量不能直接交出去：调用者原地修改它（如 labels[0] = 3）
        # 会悄悄改掉之后每一次加载的结果。图像在下面的 .float() 时已经复制。
        labels = labels.clone()
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


def _uint8_split(dataset, split, n, seed):
    # 迭代器里存 uint8 像素，每个批量再转 float：加载几乎不花时间，内存只要四分之一。
    images, labels = _load_idx_pair(dataset, split)
    if n is not None and n < len(labels):
        idx = balanced_subset(labels, n, seed=seed)
        return images[idx].unsqueeze(1), labels[idx]
    return images.unsqueeze(1), labels.clone()  # 标签复制一份，理由见 load_image_split


def _image_loaders(dataset, batch_size, resize, n_train, n_test, seed):
    transform = resize_batch(resize) if resize is not None else None
    x_train, y_train = _uint8_split(dataset, "train", n_train, seed)
    x_test, y_test = _uint8_split(dataset, "test", n_test, seed)
    divisor = 255.0
    train = TensorLoader(
        x_train, y_train, batch_size, shuffle=True, seed=seed, transform=transform, divisor=divisor
    )
    test = TensorLoader(
        x_test, y_test, batch_size, shuffle=False, transform=transform, divisor=divisor
    )
    return train, test


def fashion_mnist_text_labels(labels: torch.Tensor | list[int]) -> list[str]:
    """把数字标签换成中文类别名。"""
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]
