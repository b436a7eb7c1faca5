"""类激活映射（CAM）：网络在图像的哪里“看到”了某个类别。

设最后一个卷积层输出特征图 ``F``，形状 ``(C, h, w)``；全局平均汇聚把每个通道平均成一个数
``f_c = mean_{x,y} F_c(x, y)``；全连接层给出类别 ``k`` 的对数几率 ``o_k = sum_c w_kc f_c + b_k``。
平均和加权求和都是线性运算，可以交换次序：

    o_k - b_k = sum_c w_kc * mean_{x,y} F_c(x, y) = mean_{x,y} [ sum_c w_kc F_c(x, y) ]

方括号里的 ``M_k(x, y) = sum_c w_kc F_c(x, y)`` 就是类激活映射：它是一张 ``h x w`` 的图，
其平均值恰好是类别 ``k`` 的对数几率（减去偏置）。所以 ``M_k`` 大的位置，就是对
“判为类别 ``k``”贡献大的位置。这个等式只在“特征图 -> 全局平均汇聚 -> 全连接层”的结构下成立：
若中间还有全连接隐藏层或展平后再接全连接层，空间位置的贡献就无法这样分开。
把 ``M_k`` 双线性插值回输入图像的大小，叠在图像上画出来，就是常见的 CAM 热力图。
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def class_activation_map(
    features: torch.Tensor, fc_weight: torch.Tensor, class_idx: torch.Tensor
) -> torch.Tensor:
    """计算类激活映射 ``M_k = sum_c w_kc F_c``，每个样本取 ``class_idx`` 中给出的类别。

    ``features``：最后一个卷积层的特征图 ``(B, C, h, w)``；``fc_weight``：全连接层权重
    ``(K, C)``；``class_idx``：``(B,)``。返回 ``(B, h, w)``，未做插值和归一化。
    """
    weights = fc_weight[class_idx]  # (B, C)：每个样本所选类别的权重向量
    return torch.einsum("bc,bchw->bhw", weights, features)  # (B, h, w)


def upsample_cam(cam: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """把 ``(B, h, w)`` 的类激活映射双线性插值到 ``size``，并把每张图线性缩放到 ``[0, 1]``。

    CAM 的数值尺度因图像和类别而异，只有相对大小有意义，所以逐张图做最小-最大归一化，
    便于画热力图。整张图取值相同时返回全 0。返回 ``(B, H, W)``。
    """
    up = F.interpolate(
        cam.unsqueeze(1), size=size, mode="bilinear", align_corners=False
    )  # (B, 1, H, W)
    up = up.squeeze(1)  # (B, H, W)
    low = up.amin(dim=(1, 2), keepdim=True)  # (B, 1, 1)
    span = up.amax(dim=(1, 2), keepdim=True) - low  # (B, 1, 1)
    return (up - low) / span.clamp_min(1e-12)  # (B, H, W)，每张图取值在 [0, 1]


def _flatten_sequential(module: nn.Module) -> list[nn.Module]:
    """把嵌套的 ``nn.Sequential`` 展开成一列子模块（其他模块保持为一个整体）。"""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _flatten_sequential(child)]
    return [module]


def split_gap_model(model: nn.Module) -> tuple[nn.Sequential, nn.Linear]:
    """把 “特征 -> ``AdaptiveAvgPool2d(1)`` -> ``Flatten`` -> ``Linear``” 结构的网络拆成两部分。

    返回 ``(features, fc)``：``features(x)`` 给出最后的卷积特征图 ``(B, C, h, w)``，
    ``fc`` 是最后的全连接层（权重 ``(K, C)``）。两者与 ``model`` **共享**同一批子模块和参数，
    不复制任何东西，所以训练好 ``model`` 之后直接拆即可。嵌套的 ``nn.Sequential``
    （如 GoogLeNet 把汇聚层放在最后一个模块里）会被展开后再匹配。
    不符合该结构的网络（如最后一层不是全连接层的 NiN）会引发 ``ValueError``。
    """
    layers = _flatten_sequential(model)
    tail = layers[-3:]
    ok = (
        len(layers) > 3
        and isinstance(tail[0], nn.AdaptiveAvgPool2d)
        and tail[0].output_size in (1, (1, 1))
        and isinstance(tail[1], nn.Flatten)
        and isinstance(tail[2], nn.Linear)
    )
    if not ok:
        raise ValueError(
            "split_gap_model 需要以 AdaptiveAvgPool2d(1) -> Flatten -> Linear 结尾的 nn.Sequential，"
            f"实际结尾是 {[type(m).__name__ for m in tail]}"
            " / the model must end with AdaptiveAvgPool2d(1), Flatten, Linear"
        )
    return nn.Sequential(*layers[:-3]), tail[2]


def compute_cam(
    model: nn.Module,
    images: torch.Tensor,
    class_idx: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """对一批图像计算上采样到图像大小、归一化到 ``[0, 1]`` 的类激活映射。

    ``images``：``(B, C_in, H, W)``；``class_idx`` 为 ``None`` 时使用模型预测的类别。
    返回 ``(cams, class_idx)``：``cams`` 形状 ``(B, H, W)``，``class_idx`` 形状 ``(B,)``。
    计算时临时切到评估模式（批量归一化用滑动统计量、关闭暂退法），结束后恢复原模式。
    """
    features_net, fc = split_gap_model(model)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        features = features_net(images)  # (B, C, h, w)
        if class_idx is None:
            logits = fc(features.mean(dim=(2, 3)))  # (B, K)：与完整网络的输出相同
            class_idx = logits.argmax(dim=1)  # (B,)
        cam = class_activation_map(features, fc.weight, class_idx)  # (B, h, w)
        cams = upsample_cam(cam, images.shape[-2:])  # (B, H, W)
    model.train(was_training)
    return cams, class_idx
