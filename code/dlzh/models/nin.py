"""网络中的网络（NiN）：用 1x1 卷积代替全连接层，用全局平均汇聚代替最后的分类器。

AlexNet 和 VGG 的大部分参数都在最后的全连接层里。NiN 在每个普通卷积层之后接两个 1x1
卷积层：1x1 卷积相当于在每个像素位置上、沿通道方向做的全连接层，增加了非线性却保留了空间
结构。最后一个 NiN 块直接输出 ``num_classes`` 个通道，再用全局平均汇聚把每个通道平均成
一个数作为对数几率，网络中完全没有全连接层。
"""

from __future__ import annotations

from torch import nn

from dlzh.models.weight_init import init_xavier_


def nin_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Sequential:
    """一个 NiN 块：一个普通卷积层，再接两个 1x1 卷积层，每层之后都是 ReLU。

    输出的高和宽只由第一个卷积层决定，1x1 卷积不改变尺寸。
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),  # (B, out, H', W')
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),  # 逐像素的“全连接层”
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


def create_nin(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    dropout: float = 0.5,
    xavier_init: bool = True,
) -> nn.Sequential:
    """创建 d2l 的 NiN，输入 ``(B, in_channels, 224, 224)``，输出 ``(B, num_classes)``。

    卷积层的超参数沿用 AlexNet（11x11/4、5x5、3x3）。因为最后用的是全局平均汇聚，
    网络对输入尺寸没有硬性要求（图像不能太小，否则特征图会变空）。
    """
    net = nn.Sequential(
        nin_block(in_channels, 96, kernel_size=11, stride=4, padding=0),  # (B, 96, 54, 54)
        nn.MaxPool2d(3, stride=2),  # (B, 96, 26, 26)
        nin_block(96, 256, kernel_size=5, stride=1, padding=2),  # (B, 256, 26, 26)
        nn.MaxPool2d(3, stride=2),  # (B, 256, 12, 12)
        nin_block(256, 384, kernel_size=3, stride=1, padding=1),  # (B, 384, 12, 12)
        nn.MaxPool2d(3, stride=2),  # (B, 384, 5, 5)
        nn.Dropout(dropout),
        # 最后一个块的输出通道数等于类别数：每个通道就是一个类别的“得分图”。
        nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),  # (B, 10, 5, 5)
        nn.AdaptiveAvgPool2d((1, 1)),  # (B, 10, 1, 1)
        nn.Flatten(),  # (B, 10)
    )
    return init_xavier_(net) if xavier_init else net
