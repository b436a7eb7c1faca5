"""训练技巧里两件常被写错的小事：哪些参数做权重衰减、批量变了学习率怎么变。

- 权重衰减只作用于矩阵/卷积核这类 2 维及以上的权重；偏置和归一化层的缩放、平移
  （都是 1 维张量）不衰减，这是 timm、DeiT 等代码库的通行做法。
- 学习率随批量缩放的“线性规则”（Goyal et al., 2017）是针对 SGD 的一阶近似；
  Adam 一类自适应优化器常用平方根规则（timm 的默认做法）。两者都只是重新调参的起点。
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from torch import nn

SCALE_RULES = ("linear", "sqrt")


def weight_decay_param_groups(
    model: nn.Module,
    weight_decay: float,
    skip: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """把 ``model`` 的可训练参数分成“衰减”和“不衰减”两组，直接交给优化器。

    不衰减：偏置（名字以 ``.bias`` 结尾或就叫 ``bias``）、所有 ``ndim <= 1`` 的参数
    （BatchNorm/LayerNorm 的 weight、位置编码里的一维向量等），以及名字在 ``skip`` 中的参数
    （例如 ViT 的 ``cls_token``、``pos_embed``）。冻结的参数（``requires_grad=False``）不放进任何组。

    返回 ``[{"params": [...], "weight_decay": weight_decay}, {"params": [...], "weight_decay": 0.0}]``；
    某组为空时省略该组。
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay 不能为负，收到 {weight_decay} / must be >= 0")
    skip = set(skip)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_bias = name == "bias" or name.endswith(".bias")
        if param.ndim <= 1 or is_bias or name in skip:
            no_decay.append(param)
        else:
            decay.append(param)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def scale_lr(base_lr: float, batch_size: int, base_batch: int = 256, rule: str = "linear") -> float:
    """按批量大小缩放学习率：``rule="linear"`` 乘 ``k``，``"sqrt"`` 乘 ``sqrt(k)``，``k = batch_size / base_batch``。

    ``base_lr`` 是在批量 ``base_batch`` 下调好的学习率。大批量时请配合学习率预热，
    并把结果当作调参的起点而不是答案。
    """
    if rule not in SCALE_RULES:
        raise ValueError(
            f"rule 只能是 'linear' 或 'sqrt'，收到 {rule!r} / rule must be one of {SCALE_RULES}"
        )
    if batch_size <= 0 or base_batch <= 0:
        raise ValueError(
            f"批量大小必须为正，收到 batch_size={batch_size}, base_batch={base_batch}"
            " / batch sizes must be positive"
        )
    k = batch_size / base_batch
    return base_lr * (k if rule == "linear" else math.sqrt(k))
