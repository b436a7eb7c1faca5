"""风格迁移（Gatys 等人的方法，d2l 的写法）：用一个卷积网络的中间层特征定义三种损失，
再用梯度下降直接优化**合成图像的像素**。

- 内容损失：合成图像与内容图像在内容层上的特征之差（平方误差）；
- 风格损失：两者在各风格层上的格拉姆矩阵之差——格拉姆矩阵只记录通道之间的相关性，
  丢掉了位置信息，所以描述的是纹理和色彩这类“风格”；
- 全变分损失：相邻像素之差的绝对值，抑制合成图像里的高频噪点。
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from dlzh.models.fcn import load_torchvision_model

__all__ = [
    "CONTENT_LAYERS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "STYLE_LAYERS",
    "StyleWeights",
    "content_loss",
    "create_vgg19_features",
    "extract_features",
    "gram",
    "postprocess",
    "preprocess",
    "style_loss",
    "style_transfer",
    "tv_loss",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# d2l 选的层（torchvision VGG-19 ``features`` 中的下标）：风格取每个卷积块的第一个卷积层，
# 内容取第四块的最后一个卷积层——太靠前的层保留过多细节，合成图像会照搬内容图像的像素。
STYLE_LAYERS = (0, 5, 10, 19, 28)
CONTENT_LAYERS = (25,)


def preprocess(image, shape: tuple[int, int]) -> torch.Tensor:
    """PIL 图像 -> 缩放到 ``shape``（高, 宽）、按 ImageNet 均值和标准差标准化的 ``(1, 3, h, w)`` 张量。"""
    import torchvision.transforms.v2 as T

    transform = T.Compose(
        [
            T.ToImage(),
            T.Resize(shape, antialias=True),
            T.ToDtype(torch.float32, scale=True),
            T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    return transform(image).unsqueeze(0)


def postprocess(X: torch.Tensor) -> torch.Tensor:
    """:func:`preprocess` 的逆：``(1, 3, h, w)`` -> 取值 [0, 1] 的 ``(3, h, w)``，可以直接显示。"""
    mean = torch.tensor(IMAGENET_MEAN, device=X.device).reshape(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=X.device).reshape(3, 1, 1)
    return (X[0].detach() * std + mean).clamp(0, 1).cpu()


def create_vgg19_features(pretrained: bool = True) -> tuple[nn.Sequential, str]:
    """torchvision VGG-19 的 ``features`` 中用得到的前 ``max(层下标)+1`` 层（到第 28 层），参数冻结。

    ``pretrained=False`` 时参数是 torchvision 的随机初始化（Kaiming 正态）。
    """
    import torchvision

    last = max(STYLE_LAYERS + CONTENT_LAYERS)
    if pretrained:
        weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
        vgg, note = load_torchvision_model(torchvision.models.vgg19, weights)
        features = vgg.features
    else:
        # 只建卷积部分（torchvision 的 VGG-19 配置 "E"），按 torchvision 的 VGG 初始化卷积层：
        # 省去初始化 1 亿多个全连接参数的时间，卷积层的参数分布与 vgg19(weights=None) 相同。
        from torchvision.models.vgg import cfgs, make_layers

        features = make_layers(cfgs["E"], batch_norm=False)
        for m in features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        note = "随机初始化的参数（没有预训练）"
    net = nn.Sequential(*[features[i] for i in range(last + 1)])
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval(), note


def extract_features(
    net: nn.Sequential,
    X: torch.Tensor,
    content_layers: Sequence[int] = CONTENT_LAYERS,
    style_layers: Sequence[int] = STYLE_LAYERS,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """逐层前向计算，收集内容层和风格层的输出（按层下标的顺序）。"""
    contents, styles = [], []
    for i, layer in enumerate(net):
        X = layer(X)
        if i in style_layers:
            styles.append(X)
        if i in content_layers:
            contents.append(X)
    return contents, styles


def gram(X: torch.Tensor) -> torch.Tensor:
    """格拉姆矩阵 :math:`XX^\\top / (chw)`：``X`` 为 ``(1, c, h, w)`` 或 ``(c, h, w)``，结果 ``(c, c)``。

    除以元素个数 ``chw``，让不同大小的层、不同大小的图像得到的值可以比较。
    """
    c = X.shape[-3]
    n = X.numel() // c
    X = X.reshape(c, n)  # (c, hw)
    return X @ X.T / (c * n)


def content_loss(Y_hat: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """内容损失：特征的均方误差。``Y`` 是常量（内容图像的特征），所以先 ``detach``。"""
    return torch.square(Y_hat - Y.detach()).mean()


def style_loss(Y_hat: torch.Tensor, gram_Y: torch.Tensor) -> torch.Tensor:
    """风格损失：合成图像特征的格拉姆矩阵与风格图像的格拉姆矩阵之间的均方误差。"""
    return torch.square(gram(Y_hat) - gram_Y.detach()).mean()


def tv_loss(Y_hat: torch.Tensor) -> torch.Tensor:
    """全变分损失：水平和竖直方向相邻像素之差的绝对值的平均，再取二者的一半之和。"""
    return 0.5 * (
        torch.abs(Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).mean()
        + torch.abs(Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).mean()
    )


@dataclass(frozen=True)
class StyleWeights:
    """三种损失的权重（d2l 的取值）。"""

    content: float = 1.0
    style: float = 1e4
    tv: float = 10.0


def style_transfer(
    net: nn.Sequential,
    content_X: torch.Tensor,
    style_X: torch.Tensor,
    *,
    lr: float,
    num_epochs: int,
    lr_decay_epoch: int,
    weights: StyleWeights = StyleWeights(),
    content_layers: Sequence[int] = CONTENT_LAYERS,
    style_layers: Sequence[int] = STYLE_LAYERS,
) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """从内容图像出发，用 Adam 优化合成图像的像素；返回（合成图像，每一步的各项损失）。

    网络参数不动，只有合成图像是模型参数。学习率每 ``lr_decay_epoch`` 步乘以 0.8（d2l 的设置）。
    冒烟模式（只检查代码路径）下只走 :data:`dlzh.profile.SMOKE_BATCHES` 步。
    """
    from dlzh.profile import SMOKE_BATCHES, is_smoke

    if is_smoke():
        num_epochs = min(num_epochs, SMOKE_BATCHES)
    layers = dict(content_layers=content_layers, style_layers=style_layers)
    contents_Y, _ = extract_features(net, content_X, **layers)
    _, styles_Y = extract_features(net, style_X, **layers)
    styles_Y_gram = [gram(Y) for Y in styles_Y]
    X = nn.Parameter(content_X.clone())  # 合成图像，从内容图像开始
    optimizer = torch.optim.Adam([X], lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, lr_decay_epoch, 0.8)
    history: dict[str, list[float]] = {"content": [], "style": [], "tv": [], "total": []}
    for _ in range(num_epochs):
        optimizer.zero_grad()
        contents_Y_hat, styles_Y_hat = extract_features(net, X, **layers)
        c = weights.content * sum(
            content_loss(a, b) for a, b in zip(contents_Y_hat, contents_Y, strict=True)
        )
        s = weights.style * sum(
            style_loss(a, g) for a, g in zip(styles_Y_hat, styles_Y_gram, strict=True)
        )
        t = weights.tv * tv_loss(X)
        total = c + s + t
        total.backward()
        optimizer.step()
        scheduler.step()
        for key, value in (("content", c), ("style", s), ("tv", t), ("total", total)):
            history[key].append(float(value.detach()))
    return X.detach(), history
