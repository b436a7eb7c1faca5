"""从零实现的优化器，接口与 ``torch.optim`` 相同（``zero_grad``/``step``），可直接交给 ``fit``。"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class ScratchSGD:
    """小批量随机梯度下降：``param -= lr * grad``。

    ``fit`` 中的损失已经是批量平均值，所以这里不再除以批量大小（与 d2l 的 ``sgd`` 等价）。
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param -= self.lr * param.grad
