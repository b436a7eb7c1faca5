"""从零实现的线性模型：线性回归、softmax 回归，以及它们的损失函数。

这些实现只用张量运算和 autograd，目的是把 ``nn.Linear``、``nn.MSELoss``、
``nn.CrossEntropyLoss`` 背后的计算摊开来看；测试逐一把它们与 PyTorch 的内置版本对照。
训练时交给 :func:`dlzh.train.fit`，所以每个损失函数都返回**批量平均**损失。
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


def cross_entropy(y_hat: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """朴素的交叉熵损失（d2l 的写法）：输入是**概率** ``y_hat``，不是对数几率。

    对每个样本取出真实类别的预测概率，取负对数，再在批量上求平均。
    它便于理解，但数值上不稳定：某个概率下溢成 0 时 ``log(0) = -inf``。
    训练时请用 :func:`cross_entropy_from_logits`。

    ``y_hat``：``(B, q)``，每行是一个概率分布；``labels``：``(B,)`` 的类别下标。
    """
    picked = y_hat[torch.arange(len(y_hat), device=y_hat.device), labels]  # (B,)
    return -torch.log(picked).mean()


def cross_entropy_from_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """由对数几率直接计算交叉熵损失（批量平均），与 ``F.cross_entropy`` 等价。

    利用 ``-log softmax(o)_y = logsumexp(o) - o_y``，并在 log-sum-exp 中先减去行最大值 ``m``：
    ``logsumexp(o) = m + log sum_k exp(o_k - m)``。这样既不会上溢，
    也不会出现先把概率算成 0 再取对数的下溢。

    ``logits``：``(B, q)``；``labels``：``(B,)`` 的类别下标。
    """
    row_max = logits.max(dim=-1, keepdim=True).values  # (B, 1)
    log_sum_exp = row_max.squeeze(-1) + torch.log(
        torch.exp(logits - row_max).sum(dim=-1)  # (B,)
    )  # (B,)
    true_logit = logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1)  # (B,)
    return (log_sum_exp - true_logit).mean()


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """平方损失 ``(y_hat - y)^2 / 2`` 在批量上的平均值。

    乘以 1/2 是为了求导后系数为 1；取平均而不是求和，是因为 ``fit`` 约定损失为批量平均，
    这样学习率的含义不随批量大小变化。``y`` 会被变形成 ``y_hat`` 的形状，
    避免 ``(B, 1)`` 与 ``(B,)`` 相减时意外广播成 ``(B, B)``。
    """
    return (0.5 * (y_hat - y.reshape(y_hat.shape)) ** 2).mean()


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

    ``forward`` 不做 softmax：softmax 留给损失函数（:func:`cross_entropy_from_logits`）
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
