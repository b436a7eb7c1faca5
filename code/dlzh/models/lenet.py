"""LeNet（LeNet-5）以及批量归一化一节中加了批量归一化层的 LeNet。

LeNet 是最早的卷积神经网络之一：两个“卷积层 + sigmoid + 平均汇聚层”的卷积块提取空间特征，
再由三个全连接层分类。与 d2l 相同，这里保留原论文的 sigmoid 和平均汇聚层，
只把最后的高斯层换成普通的全连接层输出对数几率。输入是 28x28 的 Fashion-MNIST 图像。
"""

from __future__ import annotations

from torch import nn

from dlzh.models.norms import NormLayer, torch_batch_norm
from dlzh.models.weight_init import init_xavier_


def create_lenet(
    in_channels: int = 1, num_classes: int = 10, *, xavier_init: bool = True
) -> nn.Sequential:
    """创建 d2l 的 LeNet，输入 ``(B, in_channels, 28, 28)``，输出 ``(B, num_classes)``。

    第一个卷积层填充 2，使 28x28 的输入等价于原论文 32x32 输入的尺寸；
    之后每个 2x2 平均汇聚层把高和宽减半。``xavier_init`` 见 :func:`init_xavier_`。
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),  # (B, 6, 28, 28)
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, kernel_size=5),  # (B, 16, 10, 10)
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # (B, 16, 5, 5)
        nn.Flatten(),  # (B, 400)
        nn.Linear(16 * 5 * 5, 120),  # (B, 120)
        nn.Sigmoid(),
        nn.Linear(120, 84),  # (B, 84)
        nn.Sigmoid(),
        nn.Linear(84, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net


def create_lenet_bn(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    norm_layer: NormLayer = torch_batch_norm,
    xavier_init: bool = True,
) -> nn.Sequential:
    """创建 d2l 批量归一化一节的 LeNet：每个卷积层和全连接层之后、激活函数之前做批量归一化。

    ``norm_layer(num_features, num_dims)`` 创建归一化层：``num_dims=4`` 用于卷积层的输出
    ``(B, C, H, W)``（按通道归一化），``num_dims=2`` 用于全连接层的输出 ``(B, C)``。
    默认使用 ``nn.BatchNorm2d`` / ``nn.BatchNorm1d``；书页可以传入从零实现的
    :class:`~dlzh.models.norms.BatchNormScratch`，它的构造参数正是这两个。

    与 d2l 一致，第一个卷积层不填充，所以展平后是 ``16 * 4 * 4 = 256`` 维。
    批量归一化让 sigmoid 的输入保持在梯度较大的区域，于是可以用大得多的学习率（d2l 用 1.0）。
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5),  # (B, 6, 24, 24)
        norm_layer(6, 4),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # (B, 6, 12, 12)
        nn.Conv2d(6, 16, kernel_size=5),  # (B, 16, 8, 8)
        norm_layer(16, 4),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # (B, 16, 4, 4)
        nn.Flatten(),  # (B, 256)
        nn.Linear(16 * 4 * 4, 120),  # (B, 120)
        norm_layer(120, 2),
        nn.Sigmoid(),
        nn.Linear(120, 84),  # (B, 84)
        norm_layer(84, 2),
        nn.Sigmoid(),
        nn.Linear(84, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net
