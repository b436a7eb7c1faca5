"""多层感知机：从零实现的 ReLU 与暂退法（dropout），以及 ``nn.Sequential`` 版本的网络。

多层感知机在线性层之间插入非线性激活函数；没有激活函数时，多个线性层叠起来仍然只是
一个线性变换。暂退法在训练时随机把隐藏单元置零，迫使网络不依赖个别单元，从而减轻过拟合。
测试把这里的实现与 ``torch.relu``、``nn.Dropout`` 对照。
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


def relu(x: torch.Tensor) -> torch.Tensor:
    """修正线性单元 ``max(0, x)``，逐元素计算。

    它在正半轴上导数恒为 1，不会像 sigmoid 那样在输入很大时梯度趋于 0，
    所以深层网络更容易训练（见“数值稳定性”一节的梯度消失）。
    """
    return torch.maximum(x, torch.zeros_like(x))


def dropout_layer(
    x: torch.Tensor, p: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """以概率 ``p`` 把 ``x`` 的每个元素置零，并把保留下来的元素除以 ``1 - p``（倒置暂退法）。

    除以 ``1 - p`` 使每个元素的期望不变：``E[h'] = (1 - p) * h / (1 - p) = h``。
    这样训练时做缩放，测试时就什么都不用做，直接使用原网络。
    ``p = 1`` 时全部置零（避免除以 0），``p = 0`` 时原样返回。
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"暂退概率 p 必须在 [0, 1] 中，收到 {p} / p must be in [0, 1]")
    if p == 1.0:
        return torch.zeros_like(x)
    if p == 0.0:
        return x
    # 掩码先在 CPU 上用（可选的）生成器采样，再搬到 x 所在的设备，保证可复现。
    keep = torch.rand(x.shape, generator=generator) > p  # 与 x 同形状的布尔掩码
    return keep.to(device=x.device, dtype=x.dtype) * x / (1.0 - p)


class DropoutScratch(nn.Module):
    """从零实现的暂退层：训练模式下调用 :func:`dropout_layer`，评估模式下是恒等映射。

    是否暂退由 ``self.training`` 决定，而不是由“是否记录梯度”决定：
    ``model.eval()`` 会递归地把所有子模块切到评估模式，这正是 ``nn.Dropout`` 的行为。
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"暂退概率 p 必须在 [0, 1] 中，收到 {p} / p must be in [0, 1]")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout_layer(x, self.p) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"


def create_mlp(
    num_inputs: int = 784,
    hidden: Sequence[int] = (256,),
    num_outputs: int = 10,
    dropout: Sequence[float] = (),
    *,
    dropout_module: Callable[[float], nn.Module] = nn.Dropout,
    init_std: float | None = 0.01,
) -> nn.Sequential:
    """创建多层感知机：展平 -> [全连接 -> ReLU -> (暂退)] x len(hidden) -> 全连接。

    ``hidden`` 给出每个隐藏层的宽度，``dropout`` 为空或与 ``hidden`` 等长，给出每个隐藏层
    之后的暂退概率（d2l 的暂退法一节：``hidden=(256, 256), dropout=(0.2, 0.5)``，
    靠近输入的层暂退概率小一些）。``dropout_module`` 可换成 :class:`DropoutScratch`。
    ``init_std`` 不为 ``None`` 时，按 d2l 把权重初始化为 ``N(0, init_std^2)``、偏置保持默认。
    输出是对数几率，softmax 交给损失函数。
    """
    if dropout and len(dropout) != len(hidden):
        raise ValueError(
            f"dropout 应为空或与 hidden 等长，收到 {len(dropout)} 与 {len(hidden)} 个"
            " / dropout must be empty or match hidden in length"
        )
    layers: list[nn.Module] = [nn.Flatten()]  # (B, 1, 28, 28) -> (B, 784)
    width = num_inputs
    for i, h in enumerate(hidden):
        layers += [nn.Linear(width, h), nn.ReLU()]  # (B, width) -> (B, h)
        if dropout:
            layers.append(dropout_module(dropout[i]))
        width = h
    layers.append(nn.Linear(width, num_outputs))  # (B, width) -> (B, num_outputs)
    net = nn.Sequential(*layers)
    if init_std is not None:
        for module in net.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=init_std)
    return net
