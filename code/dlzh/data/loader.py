"""内存中张量的小批量迭代器。

小数据集（Fashion-MNIST 全部才 47 MB）整体放在内存里，按打乱后的索引一次切出一个批量，
省去 ``Dataset.__getitem__`` 逐条取样和 PIL 解码，也不需要多进程 worker。
需要放大图像（AlexNet 的 224x224）时，在批量上做插值，而不是预先放大整个数据集：
60000 张 224x224 的 float32 图像要 12 GB 内存。
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

Batch = tuple[torch.Tensor, torch.Tensor]


class TensorLoader:
    """按批量迭代 ``(features, labels)``，支持可复现的打乱和批量级变换。

    每个迭代周期的打乱顺序来自同一个播种的生成器，所以整个训练过程可复现，
    而不同迭代周期的顺序又各不相同。

    ``divisor`` 给定时，``features`` 按原样（如 uint8 像素）存放，每个批量切出后才转成
    float32 并除以 ``divisor``：存储只要四分之一的内存，加载时也不必先把整个数据集转换一遍。
    属性 ``features`` 仍然返回转换后的完整张量（每次访问都重新转换）。
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        divisor: float | None = None,
    ) -> None:
        if len(features) != len(labels):
            raise ValueError(
                f"特征有 {len(features)} 条而标签有 {len(labels)} 条，二者必须一样多。"
                f" / features ({len(features)}) and labels ({len(labels)}) differ in length."
            )
        if batch_size <= 0:
            raise ValueError(f"batch_size 必须为正整数，收到 {batch_size} / must be positive")
        self._stored, self.labels, self.divisor = features, labels, divisor
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.transform = transform
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def features(self) -> torch.Tensor:
        """全部特征（已按 ``divisor`` 转换）。"""
        return self._convert(self._stored)

    def _convert(self, stored: torch.Tensor) -> torch.Tensor:
        return stored if self.divisor is None else stored.float().div_(self.divisor)

    def __len__(self) -> int:
        n = len(self._stored)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def num_examples(self) -> int:
        return len(self._stored)

    def __iter__(self) -> Iterator[Batch]:
        n = len(self._stored)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for batch_idx in range(len(self)):
            idx = order[batch_idx * self.batch_size : (batch_idx + 1) * self.batch_size]
            features = self._convert(self._stored[idx])
            if self.transform is not None:
                features = self.transform(features)
            yield features, self.labels[idx]


def resize_batch(size: int | tuple[int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """返回一个把 ``(B, C, H, W)`` 批量双线性插值到 ``size`` 的变换。"""

    def _resize(images: torch.Tensor) -> torch.Tensor:
        return F.interpolate(images, size=size, mode="bilinear", align_corners=False)

    return _resize


def balanced_subset(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """返回恰好 ``n`` 个样本的索引（升序），各类别数量至多相差 1，结果由 ``seed`` 决定。

    设类别数为 ``k``：每类先取 ``n // k`` 个；余下的 ``n % k`` 个名额给打乱后最先出现的
    ``n % k`` 个类别，每类多取一个。``n`` 是 ``k`` 的倍数时各类完全相等。
    quick 档位的子集必须类别均衡：否则小子集上的准确率会被类别比例左右。
    某个类别的样本不够时报错，而不是悄悄少给几行。
    """
    classes = torch.unique(labels)
    per_class, extra = divmod(n, len(classes))
    if per_class == 0:
        raise ValueError(
            f"子集大小 {n} 小于类别数 {len(classes)}，无法每类至少取一个。"
            f" / subset size {n} is smaller than the number of classes ({len(classes)})."
        )
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    shuffled = labels[order]
    # 多取一个的类别：按打乱后第一次出现的先后排序，取前 extra 个（确定且与类别编号无关）。
    first_seen = torch.stack([(shuffled == c).nonzero()[0, 0] for c in classes])
    lucky = set(classes[torch.argsort(first_seen)[:extra]].tolist())
    picks = []
    for c in classes:
        members = order[shuffled == c]
        want = per_class + (int(c) in lucky)
        if len(members) < want:
            raise ValueError(
                f"类别 {int(c)} 只有 {len(members)} 个样本，不够取 {want} 个；请减小 n。"
                f" / class {int(c)} has only {len(members)} examples, {want} needed; lower n."
            )
        picks.append(members[:want])
    return torch.sort(torch.cat(picks)).values
