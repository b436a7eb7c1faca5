"""稠密连接网络（DenseNet）：每一层的输入是它之前所有层输出在通道维上的拼接。

ResNet 把 ``x`` 和 ``f(x)`` **相加**；DenseNet 把它们**拼接**：``[x, f1(x), f2([x, f1(x)]), ...]``。
每个卷积块只新增 ``growth_rate`` 个通道（增长率），前面的特征都原样保留下来供后面的层使用。
通道数会不断增长，所以稠密块之间用过渡层（1x1 卷积减半通道 + 平均汇聚减半高宽）控制模型大小。
d2l 在 96x96 的 Fashion-MNIST 上训练它。
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from dlzh.models.weight_init import init_xavier_


def conv_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """DenseNet 的卷积块：“批量归一化 -> ReLU -> 3x3 卷积”（预激活顺序），高宽不变。"""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1),  # (B, num_channels, H, W)
    )


class DenseBlock(nn.Module):
    """稠密块：``num_convs`` 个卷积块，每个块的输出都拼接到它的输入上。

    第 ``i`` 个卷积块的输入有 ``in_channels + i * num_channels`` 个通道；整个稠密块的输出有
    ``out_channels = in_channels + num_convs * num_channels`` 个通道，高宽不变。
    """

    def __init__(self, num_convs: int, in_channels: int, num_channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            *(conv_block(in_channels + i * num_channels, num_channels) for i in range(num_convs))
        )
        self.out_channels = in_channels + num_convs * num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.net:
            y = block(x)  # (B, growth_rate, H, W)
            x = torch.cat((x, y), dim=1)  # 通道数增加 growth_rate
        return x  # (B, out_channels, H, W)


def transition_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """过渡层：1x1 卷积把通道数变为 ``num_channels``，2x2 平均汇聚把高和宽减半。"""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, kernel_size=1),  # (B, num_channels, H, W)
        nn.AvgPool2d(kernel_size=2, stride=2),  # (B, num_channels, H/2, W/2)
    )


def create_densenet(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    num_channels: int = 64,
    growth_rate: int = 32,
    num_convs_in_dense_blocks: Sequence[int] = (4, 4, 4, 4),
    xavier_init: bool = True,
) -> nn.Sequential:
    """创建 d2l 的 DenseNet，输入 ``(B, in_channels, 96, 96)``，输出 ``(B, num_classes)``。

    起始模块与 ResNet 相同；之后是四个各含 4 个卷积块的稠密块（增长率 32），块之间的过渡层
    把通道数减半。默认设置下通道数依次为 64 -> 192 -> 96 -> 224 -> 112 -> 240 -> 120 -> 248。
    最后是“批量归一化 -> ReLU -> 全局平均汇聚 -> 展平 -> 全连接层”。
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, num_channels, kernel_size=7, stride=2, padding=3),  # (B, 64, 48, 48)
        nn.BatchNorm2d(num_channels),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 64, 24, 24)
    )
    blocks: list[nn.Module] = []
    channels = num_channels
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        dense = DenseBlock(num_convs, channels, growth_rate)  # 通道 += num_convs * growth_rate
        blocks.append(dense)
        channels = dense.out_channels
        if i != len(num_convs_in_dense_blocks) - 1:
            blocks.append(transition_block(channels, channels // 2))  # 通道和高宽都减半
            channels //= 2
    net = nn.Sequential(
        b1,
        *blocks,  # 默认设置：(B, 248, 3, 3)
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)),  # (B, 248, 1, 1)
        nn.Flatten(),  # (B, 248)
        nn.Linear(channels, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net
