"""全卷积网络（FCN）：卷积主干 -> 1×1 卷积（类别数个通道）-> 转置卷积把高宽放大回输入大小。

- :func:`create_fcn` 把任意一个“把高宽缩小 ``upsample`` 倍”的卷积主干接上 1×1 卷积和
  双线性插值初始化的转置卷积（d2l 的结构）。
- :func:`resnet18_backbone`：torchvision 的 ResNet-18 去掉全局平均汇聚和全连接层（缩小 32 倍），
  ``pretrained=True`` 时载入 ImageNet 预训练参数（需要联网下载一次）。
- :func:`create_small_backbone`：一个缩小 8 倍的小卷积主干，供 CPU 上的 quick 档位使用。
- :func:`load_torchvision_model`：取 torchvision 模型，预训练参数下载不到时的统一处理。
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import torch
from torch import nn

from dlzh.profile import is_smoke
from dlzh.vision.transposed import bilinear_kernel

__all__ = [
    "create_fcn",
    "create_small_backbone",
    "load_torchvision_model",
    "resnet18_backbone",
]


def load_torchvision_model(
    builder: Callable[..., nn.Module], weights: object | None
) -> tuple[nn.Module, str]:
    """``builder(weights=weights)``，返回（模型，说明参数来源的一行中文）。

    ``weights`` 为 ``None`` 时是随机初始化。预训练参数要从 torchvision 的服务器下载；
    离线时下载失败会抛出 ``OSError``。冒烟模式（只检查 full 档位的代码路径）下改用随机参数并在
    说明里写明；正式的 full 构建照常报错，不会悄悄用随机参数冒充预训练模型。
    """
    if weights is None:
        return builder(weights=None), "随机初始化的参数（没有预训练）"
    try:
        # torch.hub 把“Downloading: …”和进度条写到 stderr，书构建时那是一条警告：改写到 stdout，不画进度条。
        with contextlib.redirect_stderr(sys.stdout):
            model = builder(weights=weights, progress=False)
        return model, f"torchvision 的预训练参数 {weights}"
    except OSError as err:
        if not is_smoke():
            raise
        note = f"冒烟模式：下载不到预训练参数 {weights}（{type(err).__name__}），改用随机参数检查代码路径"
        return builder(weights=None), note


def resnet18_backbone(pretrained: bool = True) -> tuple[nn.Sequential, str]:
    """torchvision ResNet-18 的卷积部分（去掉最后的全局平均汇聚和全连接层），输出 512 通道、高宽 1/32。"""
    import torchvision

    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1 if pretrained else None
    net, note = load_torchvision_model(torchvision.models.resnet18, weights)
    return nn.Sequential(*list(net.children())[:-2]), note


def create_small_backbone(
    in_channels: int = 3, widths: tuple[int, ...] = (32, 64, 128)
) -> nn.Sequential:
    """每级一个步幅 2 的 3×3 卷积 + 批量归一化 + ReLU，再接一个步幅 1 的卷积；高宽缩小 ``2**len(widths)`` 倍。"""
    layers: list[nn.Module] = []
    c = in_channels
    for width in widths:
        layers += [
            nn.Conv2d(c, width, 3, stride=2, padding=1),  # 高宽减半
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),  # 高宽不变
            nn.BatchNorm2d(width),
            nn.ReLU(),
        ]
        c = width
    return nn.Sequential(*layers)


def create_fcn(
    backbone: nn.Module, backbone_channels: int, num_classes: int = 21, upsample: int = 32
) -> nn.Sequential:
    """FCN：``backbone`` 把 ``(B, 3, H, W)`` 变成 ``(B, C, H/s, W/s)``，``s = upsample``。

    1×1 卷积把通道数变成类别数；核 ``2s``、步幅 ``s``、填充 ``s/2`` 的转置卷积把高宽放大 ``s`` 倍，
    输出 ``(B, num_classes, H, W)``：每个像素一个类别预测。转置卷积的核初始化为双线性插值，
    所以训练开始时它就是一次平滑的上采样，而不是随机的“散布”。
    """
    if upsample % 2:
        raise ValueError(f"upsample 应为偶数（填充取 upsample/2），收到 {upsample}")
    head = nn.Conv2d(backbone_channels, num_classes, kernel_size=1)  # (B, K, H/s, W/s)
    up = nn.ConvTranspose2d(
        num_classes, num_classes, kernel_size=2 * upsample, stride=upsample, padding=upsample // 2
    )  # (B, K, H, W)
    with torch.no_grad():
        up.weight.copy_(bilinear_kernel(num_classes, num_classes, 2 * upsample))
        up.bias.zero_()
    return nn.Sequential(backbone, head, up)
