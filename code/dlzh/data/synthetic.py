"""合成数据：真实参数已知，方便检验训练是否找回了它们。"""

from __future__ import annotations

import torch

from dlzh.data.loader import TensorLoader


def synthetic_linear(
    w: torch.Tensor, b: float, num_examples: int, noise: float = 0.01, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """生成 ``y = Xw + b + 噪声``，X 服从标准正态分布，噪声标准差为 ``noise``。

    返回 ``X``：``(num_examples, len(w))``，``y``：``(num_examples, 1)``。
    """
    generator = torch.Generator().manual_seed(seed)
    w = torch.as_tensor(w, dtype=torch.float32).reshape(-1)
    features = torch.randn(num_examples, len(w), generator=generator)  # (N, d)
    labels = features @ w + b  # (N,)
    labels += noise * torch.randn(labels.shape, generator=generator)
    return features, labels.reshape(-1, 1)


def array_loader(
    features: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
) -> TensorLoader:
    """把现成的张量包装成小批量迭代器。"""
    return TensorLoader(features, labels, batch_size, shuffle=shuffle, seed=seed)
