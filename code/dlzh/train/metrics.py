"""训练和评估用到的度量。"""

from __future__ import annotations

import torch


def correct_count(logits: torch.Tensor, labels: torch.Tensor) -> int:
    """预测正确的样本数。``logits``：``(B, 类别数)``，``labels``：``(B,)``。"""
    if logits.ndim > 1 and logits.shape[1] > 1:
        logits = logits.argmax(dim=1)
    return int((logits.type(labels.dtype) == labels).sum())


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """预测正确的比例。"""
    return correct_count(logits, labels) / max(len(labels), 1)


class Accumulator:
    """按名字累加若干个数，用于在一个 epoch 内汇总损失和正确数。"""

    def __init__(self, *names: str) -> None:
        self.totals = dict.fromkeys(names, 0.0)

    def add(self, **values: float) -> None:
        for name, value in values.items():
            self.totals[name] += float(value)

    def __getitem__(self, name: str) -> float:
        return self.totals[name]
