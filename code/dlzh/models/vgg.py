"""VGG：用重复的“块”搭网络。

VGG 的想法是不再逐层设计，而是把“若干个 3x3 卷积层 + ReLU，再接一个 2x2 最大汇聚层”
封装成 VGG 块，然后按 ``conv_arch`` 重复。两个 3x3 卷积层的感受野与一个 5x5 相同，
参数却更少、非线性更多。默认的 ``conv_arch`` 是 VGG-11（8 个卷积层 + 3 个全连接层）。
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from dlzh.models.weight_init import init_xavier_

VGG11_ARCH: tuple[tuple[int, int], ...] = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
"""VGG-11 的卷积部分：每项是 ``(卷积层数, 输出通道数)``。"""


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """一个 VGG 块：``num_convs`` 个 3x3 卷积层（填充 1，尺寸不变），再接 2x2 最大汇聚层。

    输入 ``(B, in_channels, H, W)``，输出 ``(B, out_channels, H/2, W/2)``。
    """
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels  # (B, out_channels, H, W)
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # (B, out_channels, H/2, W/2)
    return nn.Sequential(*layers)


def create_vgg(
    conv_arch: Sequence[tuple[int, int]] = VGG11_ARCH,
    width_divisor: int = 1,
    *,
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    hidden: int = 4096,
    dropout: float = 0.5,
    xavier_init: bool = True,
) -> nn.Sequential:
    """创建 VGG：``conv_arch`` 中的每项 ``(num_convs, out_channels)`` 是一个 VGG 块，
    之后是两个 ``hidden`` 维的全连接隐藏层（带暂退法）和输出层。

    VGG-11 的计算量很大，d2l 在 Fashion-MNIST 上用 ``width_divisor=4``：把每个块的
    **卷积通道数**除以 4（全连接层仍是 4096 维，与 d2l 相同），计算量约为原来的 1/16。
    每个块把边长减半，所以 224x224 经过 5 个块后是 7x7，展平后为 ``512/width_divisor * 49`` 维。
    """
    if width_divisor < 1:
        raise ValueError(f"width_divisor 必须 >= 1，收到 {width_divisor}")
    blocks: list[nn.Module] = []
    channels = in_channels
    for num_convs, out_channels in conv_arch:
        out_channels = max(1, out_channels // width_divisor)
        blocks.append(vgg_block(num_convs, channels, out_channels))  # 边长减半
        channels = out_channels
    side = image_size // 2 ** len(conv_arch)  # 224 -> 7
    if side < 1:
        raise ValueError(f"image_size={image_size} 太小：{len(conv_arch)} 个块之后尺寸为 0")
    net = nn.Sequential(
        *blocks,  # (B, 512, 7, 7)
        nn.Flatten(),  # (B, 25088)
        nn.Linear(channels * side * side, hidden),  # (B, 4096)
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),  # (B, 4096)
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),  # (B, num_classes)
    )
    return init_xavier_(net) if xavier_init else net
