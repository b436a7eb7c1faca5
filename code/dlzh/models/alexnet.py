"""AlexNet：更深、更宽、用 ReLU 和暂退法的卷积神经网络（d2l 的单通道版本）。

与 LeNet 相比，AlexNet 有五个卷积层和两个 4096 维的全连接隐藏层，用 ReLU 代替 sigmoid
（正半轴梯度恒为 1，训练更容易），用最大汇聚层代替平均汇聚层，并用暂退法控制全连接层的
复杂度。d2l 把 Fashion-MNIST 的 28x28 图像放大到 224x224 来训练它，以保留原网络的结构。
"""

from __future__ import annotations

from torch import nn

from dlzh.models.weight_init import init_xavier_


def _conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """卷积层或汇聚层输出的边长：``floor((n + 2p - k) / s) + 1``。"""
    return (size + 2 * padding - kernel) // stride + 1


def create_alexnet(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    image_size: int = 224,
    width_divisor: int = 1,
    dropout: float = 0.5,
    xavier_init: bool = True,
) -> nn.Sequential:
    """创建 d2l 的 AlexNet，输入 ``(B, in_channels, image_size, image_size)``。

    默认的 224x224 输入经过卷积块后是 ``(B, 256, 5, 5)``，展平为 6400 维。
    ``image_size`` 改变时据此重新计算展平后的维数（至少约 67 像素，否则特征图变空）。
    ``width_divisor`` 把所有卷积通道数和全连接隐藏层宽度除以同一个数，
    得到一个结构不变的“瘦身版”，只用于在 CPU 上快速演示；默认 1 即原始宽度。
    """
    if width_divisor < 1:
        raise ValueError(f"width_divisor 必须 >= 1，收到 {width_divisor}")
    c1, c2, c3, hidden = (max(1, w // width_divisor) for w in (96, 256, 384, 4096))
    side = _conv_out(image_size, 11, 4, 1)  # 第一个卷积层
    side = _conv_out(side, 3, 2)  # 汇聚
    side = _conv_out(side, 3, 2)  # 第二个卷积层填充 2，尺寸不变；汇聚
    side = _conv_out(side, 3, 2)  # 三个 3x3 卷积层填充 1，尺寸不变；汇聚
    if side < 1:
        raise ValueError(f"image_size={image_size} 太小：特征图尺寸变成了 {side}")
    net = nn.Sequential(
        # 大卷积核、大步幅：224x224 的图像很大，第一层就要快速缩小尺寸。
        nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=1),  # (B, 96, 54, 54)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 96, 26, 26)
        nn.Conv2d(c1, c2, kernel_size=5, padding=2),  # (B, 256, 26, 26)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 12, 12)
        # 连续三个 3x3 卷积层，通道更多；填充 1 保持尺寸。
        nn.Conv2d(c2, c3, kernel_size=3, padding=1),  # (B, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(c3, c3, kernel_size=3, padding=1),  # (B, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(c3, c2, kernel_size=3, padding=1),  # (B, 256, 12, 12)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 5, 5)
        nn.Flatten(),  # (B, 6400)
        # 全连接层的参数占了绝大部分（约 4600 万个），用暂退法减轻过拟合。
        nn.Linear(c2 * side * side, hidden),  # (B, 4096)
        nn.ReLU(),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, hidden),  # (B, 4096)
        nn.ReLU(),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net
