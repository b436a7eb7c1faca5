"""GoogLeNet：由 Inception 块组成的、含并行连结的网络。

Inception 块不去纠结“该用多大的卷积核”，而是把 1x1、3x3、5x5 卷积和 3x3 最大汇聚
四条路径并行地放在一起，在通道维上拼接它们的输出。3x3 和 5x5 路径前的 1x1 卷积先减少
通道数，降低计算量。d2l 把 Fashion-MNIST 图像放大到 96x96 来训练它。
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.weight_init import init_xavier_


class Inception(nn.Module):
    """Inception 块：四条并行路径，输出通道数为 ``c1 + c2[1] + c3[1] + c4``，高和宽不变。

    - 路径 1：1x1 卷积，输出 ``c1`` 个通道；
    - 路径 2：1x1 卷积降到 ``c2[0]`` 个通道，再做 3x3 卷积输出 ``c2[1]`` 个通道；
    - 路径 3：1x1 卷积降到 ``c3[0]`` 个通道，再做 5x5 卷积输出 ``c3[1]`` 个通道；
    - 路径 4：3x3 最大汇聚，再用 1x1 卷积输出 ``c4`` 个通道。

    每条路径都用合适的填充保持高和宽，这样四个输出才能在通道维上拼接。
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c2: tuple[int, int],
        c3: tuple[int, int],
        c4: int,
    ) -> None:
        super().__init__()
        self.out_channels = c1 + c2[1] + c3[1] + c4
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = F.relu(self.p1_1(x))  # (B, c1, H, W)
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))  # (B, c2[1], H, W)
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))  # (B, c3[1], H, W)
        p4 = F.relu(self.p4_2(self.p4_1(x)))  # (B, c4, H, W)
        return torch.cat((p1, p2, p3, p4), dim=1)  # (B, c1 + c2[1] + c3[1] + c4, H, W)


def create_googlenet(
    in_channels: int = 1, num_classes: int = 10, *, xavier_init: bool = True
) -> nn.Sequential:
    """创建 d2l 的 GoogLeNet，输入 ``(B, in_channels, 96, 96)``，输出 ``(B, num_classes)``。

    五个模块之间用步幅为 2 的 3x3 最大汇聚层把边长减半（96 -> 48 -> 24 -> 12 -> 6 -> 3），
    最后是全局平均汇聚和一个全连接层。Inception 块中各路径的通道数沿用原论文（在 ImageNet
    上调出来的），下面注释中的输出通道数可由 :class:`Inception` 的公式验证。
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),  # (B, 64, 48, 48)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 64, 24, 24)
    )
    b2 = nn.Sequential(
        nn.Conv2d(64, 64, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(64, 192, kernel_size=3, padding=1),  # (B, 192, 24, 24)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 192, 12, 12)
    )
    b3 = nn.Sequential(
        Inception(192, 64, (96, 128), (16, 32), 32),  # (B, 256, 12, 12)
        Inception(256, 128, (128, 192), (32, 96), 64),  # (B, 480, 12, 12)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 480, 6, 6)
    )
    b4 = nn.Sequential(
        Inception(480, 192, (96, 208), (16, 48), 64),  # (B, 512, 6, 6)
        Inception(512, 160, (112, 224), (24, 64), 64),  # (B, 512, 6, 6)
        Inception(512, 128, (128, 256), (24, 64), 64),  # (B, 512, 6, 6)
        Inception(512, 112, (144, 288), (32, 64), 64),  # (B, 528, 6, 6)
        Inception(528, 256, (160, 320), (32, 128), 128),  # (B, 832, 6, 6)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 832, 3, 3)
    )
    b5 = nn.Sequential(
        Inception(832, 256, (160, 320), (32, 128), 128),  # (B, 832, 3, 3)
        Inception(832, 384, (192, 384), (48, 128), 128),  # (B, 1024, 3, 3)
        nn.AdaptiveAvgPool2d((1, 1)),  # (B, 1024, 1, 1)
        nn.Flatten(),  # (B, 1024)
    )
    net = nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(1024, num_classes))  # (B, num_classes)
    return init_xavier_(net) if xavier_init else net
