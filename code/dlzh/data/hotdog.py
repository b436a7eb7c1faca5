"""热狗识别数据集（d2l 的 ``hotdog.zip``）与 CIFAR-10（torchvision）。

``hotdog.zip`` 解压后的目录::

    hotdog/train/hotdog/*.png       1000 张含热狗的图像
    hotdog/train/not-hotdog/*.png   1000 张不含热狗的图像
    hotdog/test/hotdog/*.png        500 张
    hotdog/test/not-hotdog/*.png    500 张

每个类别一个文件夹，正是 ``torchvision.datasets.ImageFolder`` 读取的格式（类别按文件夹名排序：
``hotdog`` 为 0，``not-hotdog`` 为 1）。CIFAR-10 的压缩包也在登记表里，读取用 torchvision 的代码。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from dlzh.data.download import DataNotFoundError, fetch_extracted

__all__ = ["cifar10_root", "hotdog_root", "load_cifar10", "load_hotdog"]


def hotdog_root() -> Path:
    """登记表中的 ``hotdog.zip``（校验 sha1、原子解压）解压后的 ``hotdog`` 目录。"""
    return fetch_extracted("hotdog", "hotdog.zip") / "hotdog"


def _root_or_none(find_root: Callable[[], Path]) -> Path | None:
    """取数据目录；冒烟模式下取不到（离线）时返回 ``None``，正式构建照常报错。"""
    from dlzh.profile import is_smoke

    try:
        return find_root()
    except DataNotFoundError:
        if not is_smoke():
            raise
        return None


def _smoke_standin(name, num_classes, image_size, train_transform, test_transform):
    # 冒烟模式只检查 full 档位的代码路径：用 torchvision 的 FakeData（随机噪声图像）代替，并写明。
    from torchvision.datasets import FakeData

    print(f"冒烟模式：取不到 {name}（离线），改用随机噪声图像（torchvision FakeData）检查代码路径")
    train = FakeData(64, image_size, num_classes, transform=train_transform, random_offset=0)
    test = FakeData(32, image_size, num_classes, transform=test_transform, random_offset=1000)
    return train, test


def _loaders(train, test, batch_size: int, seed: int):
    """训练集按 ``seed`` 打乱（可复现），测试集按原顺序：热狗和 CIFAR-10 共用。"""
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.utils.data.DataLoader(train, batch_size, shuffle=True, generator=generator),
        torch.utils.data.DataLoader(test, batch_size),
    )


def load_hotdog(
    batch_size: int,
    train_transform: Callable,
    test_transform: Callable,
    root: Path | None = None,
    seed: int = 0,
) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """热狗数据集的训练、测试迭代器；``root`` 默认为 :func:`hotdog_root`。

    冒烟模式下取不到压缩包（离线）时改用随机噪声图像并打印说明；正式的 full 构建照常报错。
    """
    from torchvision.datasets import ImageFolder

    if root is None:
        root = _root_or_none(hotdog_root)
    if root is None:
        train, test = _smoke_standin(
            "hotdog.zip", 2, (3, 256, 256), train_transform, test_transform
        )
    else:
        train = ImageFolder(str(Path(root) / "train"), transform=train_transform)
        test = ImageFolder(str(Path(root) / "test"), transform=test_transform)
    return _loaders(train, test, batch_size, seed)


def cifar10_root() -> Path:
    """登记表中的 CIFAR-10 压缩包（校验 md5、原子解压）解压后的目录，内含 ``cifar-10-batches-py``。

    不用 torchvision 自带的下载：它的进度条写到 stderr，在书的严格构建里会变成警告。
    """
    return fetch_extracted("cifar-10", "cifar-10-python.tar.gz")


def load_cifar10(
    batch_size: int,
    train_transform: Callable,
    test_transform: Callable,
    root: Path | None = None,
    seed: int = 0,
) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """CIFAR-10 的训练（50000 张）、测试（10000 张）迭代器，读取交给 ``torchvision.datasets.CIFAR10``。

    ``root`` 是含 ``cifar-10-batches-py`` 的目录，默认为 :func:`cifar10_root`。
    """
    from torchvision.datasets import CIFAR10

    if root is None:
        root = _root_or_none(cifar10_root)
    if root is None:
        train, test = _smoke_standin(
            "cifar-10-python.tar.gz", 10, (3, 32, 32), train_transform, test_transform
        )
    else:
        train = CIFAR10(str(root), train=True, transform=train_transform, download=False)
        test = CIFAR10(str(root), train=False, transform=test_transform, download=False)
    return _loaders(train, test, batch_size, seed)
