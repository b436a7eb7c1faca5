"""从零实现的线性模型：线性回归、softmax 回归和 softmax 本身。

这些实现只用张量运算和 autograd，目的是把 ``nn.Linear`` 和 softmax 背后的计算摊开来看；
测试逐一把它们与 PyTorch 的内置版本对照。配套的从零实现的损失（平方损失、交叉熵）
和其他损失一起放在 :mod:`dlzh.train.losses`。
"""

from __future__ import annotations

import torch
from torch import nn


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """按行计算 softmax：``exp(o_j) / sum_k exp(o_k)``。

    先减去每行的最大值再取指数。softmax 对整行加减同一个常数不变，
    而减去最大值后所有指数都不超过 ``exp(0) = 1``，不会溢出成 ``inf``
    （直接计算 ``exp(1000)`` 在 float32 下就是 ``inf``，结果变成 ``nan``）。
    """
    shifted = logits - logits.max(dim=-1, keepdim=True).values  # (B, q)，每行最大值为 0
    exp = torch.exp(shifted)  # (B, q)，取值 (0, 1]
    return exp / exp.sum(dim=-1, keepdim=True)  # (B, q)，每行和为 1


class LinearRegressionScratch(nn.Module):
    """从零实现的线性回归 ``y = Xw + b``。

    权重从 ``N(0, 0.01^2)`` 中采样、偏置为 0（与 d2l 相同）。
    参数注册为 ``nn.Parameter``，于是 ``model.parameters()`` 能找到它们，
    优化器和 ``fit`` 都可以直接使用。
    """

    def __init__(self, num_inputs: int, sigma: float = 0.01) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(num_inputs, 1) * sigma)  # (d, 1)
        self.b = nn.Parameter(torch.zeros(1))  # (1,)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X @ self.w + self.b  # (B, d) @ (d, 1) -> (B, 1)


class SoftmaxRegressionScratch(nn.Module):
    """从零实现的 softmax 回归：把图像展平后做一次仿射变换，返回对数几率。

    ``forward`` 不做 softmax：softmax 留给损失函数
    （:func:`dlzh.train.losses.cross_entropy_from_logits`）
    与交叉熵一起用 log-sum-exp 稳定地计算；预测类别时取 ``argmax`` 也不需要它。
    """

    def __init__(self, num_inputs: int = 784, num_outputs: int = 10, sigma: float = 0.01) -> None:
        super().__init__()
        self.num_inputs = num_inputs
        self.W = nn.Parameter(torch.randn(num_inputs, num_outputs) * sigma)  # (d, q)
        self.b = nn.Parameter(torch.zeros(num_outputs))  # (q,)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.reshape(-1, self.num_inputs)  # (B, 1, 28, 28) -> (B, 784)
        return X @ self.W + self.b  # (B, q) 对数几率
