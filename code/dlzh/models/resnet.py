"""残差网络（ResNet）：让每个块学习残差 ``f(x) - x``，再把输入加回去。

如果一个新加的层最好什么都不做，普通网络得把权重学成恒等映射，这并不容易；残差块只需把
残差部分的权重推向 0。跨层的恒等连接也让梯度可以直接传到前面的层，所以很深的网络也能训练。
这里是 d2l 的 ResNet-18：一个 7x7 卷积的起始模块、四个各含两个残差块的模块（每个残差块两个
3x3 卷积层，共 16 层）和最后的全连接层，总共 18 层。d2l 在 96x96 的 Fashion-MNIST 上训练它。
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.weight_init import init_xavier_


class Residual(nn.Module):
    """残差块：``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``。

    主路径是两个 3x3 卷积层（各接批量归一化），第一个的步幅为 ``strides``。
    相加要求两条路径形状相同：当通道数改变或 ``strides > 1`` 把高宽减半时，
    令 ``use_1x1conv=True``，用一个步幅相同的 1x1 卷积把输入变换成主路径输出的形状。
    输入 ``(B, in_channels, H, W)``，输出 ``(B, num_channels, H/strides, W/strides)``。
    """

    def __init__(
        self, in_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = (
            nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
            if use_1x1conv
            else None
        )
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))  # (B, num_channels, H/s, W/s)
        y = self.bn2(self.conv2(y))  # (B, num_channels, H/s, W/s)
        if self.conv3 is not None:
            x = self.conv3(x)  # (B, in_channels, H, W) -> (B, num_channels, H/s, W/s)
        return F.relu(y + x)  # 先相加、再激活：恒等连接跨过了最后一个 ReLU 之前的全部计算


def resnet_block(
    in_channels: int, num_channels: int, num_residuals: int, first_block: bool = False
) -> nn.Sequential:
    """由 ``num_residuals`` 个残差块组成的模块。

    除第一个模块外（起始模块的最大汇聚层已经减半过尺寸），每个模块的第一个残差块把通道数
    翻倍、高宽减半，因此要用 1x1 卷积调整恒等连接；其余残差块的输入输出形状相同。
    """
    blocks: list[nn.Module] = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(in_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blocks.append(Residual(num_channels, num_channels))
    return nn.Sequential(*blocks)


def create_resnet18(
    in_channels: int = 1, num_classes: int = 10, *, xavier_init: bool = True
) -> nn.Sequential:
    """创建 d2l 的 ResNet-18，输入 ``(B, in_channels, 96, 96)``，输出 ``(B, num_classes)``。

    结构是“卷积特征 -> 全局平均汇聚 -> 展平 -> 全连接层”，所以可以直接用
    :func:`dlzh.models.split_gap_model` 取出最后的特征图和分类权重，计算类激活映射（CAM）。
    全局平均汇聚也让网络接受任意（不太小的）输入尺寸。
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),  # (B, 64, 48, 48)
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (B, 64, 24, 24)
    )
    net = nn.Sequential(
        b1,
        resnet_block(64, 64, 2, first_block=True),  # (B, 64, 24, 24)
        resnet_block(64, 128, 2),  # (B, 128, 12, 12)
        resnet_block(128, 256, 2),  # (B, 256, 6, 6)
        resnet_block(256, 512, 2),  # (B, 512, 3, 3)
        nn.AdaptiveAvgPool2d((1, 1)),  # (B, 512, 1, 1)
        nn.Flatten(),  # (B, 512)
        nn.Linear(512, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net
