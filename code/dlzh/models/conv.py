"""卷积的基本运算：从零实现的二维互相关、多输入多输出通道、汇聚层和一个卷积层。

深度学习里所谓的“卷积”其实是互相关运算：卷积核在输入上滑动，每个位置上逐元素相乘再求和，
核不翻转。这里用最直白的循环写出这些运算，只为讲清楚它们在算什么；
测试把它们与 ``F.conv2d``、``nn.MaxPool2d``、``nn.AvgPool2d`` 逐元素对照。
真正训练时请用 ``torch.nn`` 的实现，它们快几个数量级。
"""

from __future__ import annotations

import torch
from torch import nn


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """二维互相关：``X`` 为 ``(h, w)``，``K`` 为 ``(kh, kw)``，输出 ``(h - kh + 1, w - kw + 1)``。

    输出的 ``(i, j)`` 元素是 ``X`` 中以 ``(i, j)`` 为左上角、与核同样大小的窗口
    和 ``K`` 逐元素相乘之和。只用可微的张量运算，所以可以对 ``K`` 求梯度。
    """
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    rows = []
    for i in range(out_h):
        # 第 i 行的每个窗口 (kh, kw) 与核相乘求和，得到 out_w 个数。
        rows.append(torch.stack([(X[i : i + kh, j : j + kw] * K).sum() for j in range(out_w)]))
    return torch.stack(rows)  # (out_h, out_w)


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """多输入通道的互相关：``X`` 为 ``(c_i, h, w)``，``K`` 为 ``(c_i, kh, kw)``。

    每个输入通道与核的对应通道做二维互相关，再把 ``c_i`` 个结果相加，
    所以输出只有一个通道 ``(h - kh + 1, w - kw + 1)``。
    """
    if X.shape[0] != K.shape[0]:
        raise ValueError(
            f"输入通道数 {X.shape[0]} 与卷积核通道数 {K.shape[0]} 不一致"
            " / input and kernel channels differ"
        )
    # (c_i, out_h, out_w) 按通道求和 -> (out_h, out_w)
    return torch.stack([corr2d(x, k) for x, k in zip(X, K, strict=True)]).sum(dim=0)


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """多输入多输出通道的互相关：``X`` 为 ``(c_i, h, w)``，``K`` 为 ``(c_o, c_i, kh, kw)``。

    每个输出通道有自己的一组 ``(c_i, kh, kw)`` 核，做一次 :func:`corr2d_multi_in`；
    把 ``c_o`` 个结果堆叠起来得到 ``(c_o, out_h, out_w)``。这与 ``F.conv2d`` 的权重布局相同。
    """
    return torch.stack([corr2d_multi_in(X, k) for k in K])  # (c_o, out_h, out_w)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """用矩阵乘法实现的 1x1 卷积：``X`` 为 ``(c_i, h, w)``，``K`` 为 ``(c_o, c_i, 1, 1)``。

    1x1 卷积核看不到相邻像素，它在每个像素位置上把 ``c_i`` 个通道的值线性组合成
    ``c_o`` 个值，相当于对每个像素用同一个全连接层。把像素排成列，就是一次矩阵乘法。
    """
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape(c_i, h * w)  # (c_i, h*w)：每列是一个像素的全部通道
    K = K.reshape(c_o, c_i)  # (c_o, c_i)
    return (K @ X).reshape(c_o, h, w)  # (c_o, h*w) -> (c_o, h, w)


def pool2d(X: torch.Tensor, pool_size: tuple[int, int], mode: str = "max") -> torch.Tensor:
    """二维汇聚（无填充、步幅 1）：``X`` 为 ``(h, w)``，输出 ``(h - ph + 1, w - pw + 1)``。

    与互相关一样用一个窗口在输入上滑动，只是不再与核相乘求和，而是取窗口内的最大值
    （``mode="max"``）或平均值（``mode="avg"``）。汇聚层没有要学习的参数。
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode 只能是 'max' 或 'avg'，收到 {mode!r} / mode must be max|avg")
    ph, pw = pool_size
    out_h, out_w = X.shape[0] - ph + 1, X.shape[1] - pw + 1
    Y = torch.zeros(out_h, out_w, dtype=X.dtype, device=X.device)  # (out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            window = X[i : i + ph, j : j + pw]  # (ph, pw)
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


class Conv2DScratch(nn.Module):
    """从零实现的单通道二维卷积层：``corr2d(x, weight) + bias``。

    卷积层的参数就是卷积核 ``weight`` 和一个标量偏置 ``bias``，与全连接层一样随机初始化、
    用梯度下降学习。输入 ``(h, w)``，输出 ``(h - kh + 1, w - kw + 1)``。
    """

    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))  # (kh, kw)
        self.bias = nn.Parameter(torch.zeros(1))  # (1,)，广播到每个输出位置

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias  # (h, w) -> (out_h, out_w)

    def extra_repr(self) -> str:
        return f"kernel_size={tuple(self.weight.shape)}"
