"""训练技巧里用到的损失：平滑标签、软目标交叉熵、知识蒸馏损失。

PyTorch 自带的 ``F.cross_entropy`` 已经支持 ``label_smoothing`` 和概率形式的目标，
所以这里不重新发明交叉熵，只补上书里反复用到、又容易写错的三个组合：

- :func:`smooth_labels`：整数标签 -> 平滑后的概率目标，便于把“标签平滑”看成普通的软目标；
- :func:`soft_target_cross_entropy`：按定义写出的软目标交叉熵，用来与 PyTorch、timm 对照；
- :func:`distillation_loss`：DeiT 式的蒸馏损失，教师的输出一律当作常数。
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["distillation_loss", "smooth_labels", "soft_target_cross_entropy"]


def smooth_labels(labels: Tensor, num_classes: int, smoothing: float = 0.0) -> Tensor:
    """把整数标签变成平滑后的概率目标：正确类 ``1-ε+ε/C``，其余各类 ``ε/C``。

    形状 ``(B,)`` -> ``(B, C)``，每行之和为 1。``smoothing=0`` 时就是独热编码。
    """
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"smoothing 必须在 [0, 1] 内，收到 {smoothing}")
    one_hot = F.one_hot(labels.long(), num_classes).float()  # (B, C)
    return one_hot * (1.0 - smoothing) + smoothing / num_classes


def soft_target_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """软目标交叉熵 ``mean_i Σ_c −t_ic · log softmax(z_i)_c``。

    ``target`` 的每一行是一个概率分布（MixUp/CutMix、标签平滑或教师模型给出的）。
    数值上与 ``F.cross_entropy(logits, target)`` 相同，写出来是为了让公式可以被测试。
    """
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} 与 target {tuple(target.shape)} 形状不同")
    return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()


def distillation_loss(
    student_logits: Tensor | tuple[Tensor, Tensor],
    teacher_logits: Tensor,
    labels: Tensor,
    alpha: float = 0.5,
    tau: float = 1.0,
    kind: Literal["hard", "soft"] = "hard",
) -> Tensor:
    """知识蒸馏损失 ``(1−α)·CE(学生, 标签) + α·KD``，默认取 DeiT 的硬蒸馏（α=0.5，τ=1）。

    - ``student_logits``：一个 ``(B, C)`` 张量；或 DeiT 式的二元组 ``(类别头, 蒸馏头)``，
      此时类别头对真实标签算交叉熵，蒸馏头对教师算 KD 项。
    - ``labels``：``(B,)`` 整数标签，或 MixUp 之后 ``(B, C)`` 的概率目标。
    - ``kind="hard"``：KD 项是对教师 argmax 的交叉熵，τ 不起作用。
    - ``kind="soft"``：KD 项是 ``τ² · KL(softmax(t/τ) ‖ softmax(s/τ))``，对批量取平均
      （Hinton 等人的写法）。DeiT 代码里的软蒸馏除以的是 ``B·C`` 而不是 ``B``，
      数值上是这里的 ``1/C``，换用时 α 要相应调整。

    教师的输出先 ``detach()``：梯度只流向学生。
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha 必须在 [0, 1] 内，收到 {alpha}")
    if tau <= 0:
        raise ValueError(f"tau 必须为正数，收到 {tau}")
    if isinstance(student_logits, tuple | list):
        cls_logits, dist_logits = student_logits
    else:
        cls_logits = dist_logits = student_logits
    teacher_logits = teacher_logits.detach()
    base = F.cross_entropy(cls_logits, labels)  # 整数标签或概率目标都可以
    if kind == "hard":
        kd = F.cross_entropy(dist_logits, teacher_logits.argmax(dim=-1))
    elif kind == "soft":
        kd = F.kl_div(
            F.log_softmax(dist_logits / tau, dim=-1),
            F.log_softmax(teacher_logits / tau, dim=-1),
            reduction="batchmean",
            log_target=True,
        ) * (tau * tau)
    else:
        raise ValueError(f"kind 只能是 'hard' 或 'soft'，收到 {kind!r}")
    return (1.0 - alpha) * base + alpha * kd
