"""全书的损失函数：从零实现的基本损失，以及训练技巧里的平滑标签、软目标与蒸馏损失。

从零实现的三个（训练时交给 :func:`dlzh.train.fit`，都返回**批量平均**损失，
这样学习率的含义不随批量大小改变；测试逐一与 PyTorch 的内置版本对照）：

- :func:`squared_loss`：平方损失，对应 ``nn.MSELoss`` 的一半；
- :func:`cross_entropy_from_probs`：输入是**概率**的朴素交叉熵（d2l 的写法），用来展示下溢；
- :func:`cross_entropy_from_logits`：输入是对数几率、用 log-sum-exp 稳定计算，等价于 ``F.cross_entropy``。

PyTorch 自带的 ``F.cross_entropy`` 已经支持 ``label_smoothing`` 和概率形式的目标，
所以训练技巧部分不重新发明交叉熵，只补上书里反复用到、又容易写错的三个组合：

- :func:`smooth_labels`：整数标签 -> 平滑后的概率目标，便于把“标签平滑”看成普通的软目标；
- :func:`soft_target_cross_entropy`：按定义写出的软目标交叉熵，用来与 PyTorch、timm 对照；
- :func:`distillation_loss`：DeiT 式的蒸馏损失，教师的输出一律当作常数。
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "cross_entropy_from_logits",
    "cross_entropy_from_probs",
    "distillation_loss",
    "masked_softmax_cross_entropy",
    "sequence_mask",
    "smooth_labels",
    "soft_target_cross_entropy",
    "squared_loss",
]


def cross_entropy_from_probs(y_hat: Tensor, labels: Tensor) -> Tensor:
    """朴素的交叉熵损失（d2l 的写法）：输入是**概率** ``y_hat``，不是对数几率。

    对每个样本取出真实类别的预测概率，取负对数，再在批量上求平均。
    名字里的 ``from_probs`` 提醒它与 ``F.cross_entropy``（输入对数几率）不同：把对数几率
    直接传进来不会报错，却会算出错误的值（负数的对数是 nan）。
    它便于理解，但数值上不稳定：某个概率下溢成 0 时 ``log(0) = -inf``。
    训练时请用 :func:`cross_entropy_from_logits`。

    ``y_hat``：``(B, q)``，每行是一个概率分布；``labels``：``(B,)`` 的类别下标。
    """
    picked = y_hat[torch.arange(len(y_hat), device=y_hat.device), labels]  # (B,)
    return -torch.log(picked).mean()


def cross_entropy_from_logits(logits: Tensor, labels: Tensor) -> Tensor:
    """由对数几率直接计算交叉熵损失（批量平均），与 ``F.cross_entropy`` 等价。

    利用 ``-log softmax(o)_y = logsumexp(o) - o_y``，并在 log-sum-exp 中先减去行最大值 ``m``：
    ``logsumexp(o) = m + log sum_k exp(o_k - m)``。这样既不会上溢，
    也不会出现先把概率算成 0 再取对数的下溢。

    ``logits``：``(B, q)``；``labels``：``(B,)`` 的类别下标。
    """
    row_max = logits.max(dim=-1, keepdim=True).values  # (B, 1)
    log_sum_exp = row_max.squeeze(-1) + torch.log(
        torch.exp(logits - row_max).sum(dim=-1)  # (B,)
    )  # (B,)
    true_logit = logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1)  # (B,)
    return (log_sum_exp - true_logit).mean()


def squared_loss(y_hat: Tensor, y: Tensor) -> Tensor:
    """平方损失 ``(y_hat - y)^2 / 2`` 在批量上的平均值。

    乘以 1/2 是为了求导后系数为 1；取平均而不是求和，是因为 ``fit`` 约定损失为批量平均，
    这样学习率的含义不随批量大小变化。``y`` 会被变形成 ``y_hat`` 的形状，
    避免 ``(B, 1)`` 与 ``(B,)`` 相减时意外广播成 ``(B, B)``。
    """
    return (0.5 * (y_hat - y.reshape(y_hat.shape)) ** 2).mean()


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


def sequence_mask(valid_len: Tensor, max_len: int) -> Tensor:
    """``(B,)`` 的有效长度 -> ``(B, max_len)`` 的布尔掩码：每行前 ``valid_len`` 个位置为真。"""
    steps = torch.arange(max_len, device=valid_len.device)  # (T,)
    return steps[None, :] < valid_len[:, None]  # (B, T)


def masked_softmax_cross_entropy(
    logits: Tensor,
    labels: Tensor,
    valid_len: Tensor,
    reduction: Literal["mean", "sum", "none"] = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """序列的交叉熵，填充位置（超出有效长度的时间步）不计入损失。

    ``logits``：``(B, T, V)``；``labels``：``(B, T)``；``valid_len``：``(B,)``。
    ``reduction="mean"`` 返回**每个有效词元**的平均损失，它的指数就是困惑度；
    ``"sum"`` 返回总和，``"none"`` 返回 ``(B, T)``（填充位置为 0）。

    与 d2l 的 ``MaskedSoftmaxCELoss`` 的区别：d2l 对每个序列在全部 ``T`` 个时间步上求平均
    （填充位置按 0 计入分母），训练时打印的“loss”又除以有效词元总数，所以 d2l 打印的数值
    等于这里的 ``"mean"`` 再除以 ``T``（例如 ``T=10`` 时，d2l 的 0.019 相当于每词元约 0.19）。

    ``label_smoothing=ε``：标签平滑（《Attention Is All You Need》用 ε=0.1），每个有效位置的目标
    从独热分布换成 ``(1-ε)·独热 + ε/V``，与 ``F.cross_entropy(label_smoothing=ε)`` 相同；填充位置
    照样不计入。平滑后的损失有下限（目标分布的熵），不再能降到 0，它的指数也不再是困惑度。
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing 必须在 [0, 1] 内，收到 {label_smoothing}")
    per_token = F.cross_entropy(
        logits.transpose(1, 2), labels, reduction="none", label_smoothing=label_smoothing
    )  # (B, T)
    mask = sequence_mask(valid_len, labels.shape[1])
    per_token = per_token * mask
    if reduction == "none":
        return per_token
    total = per_token.sum()
    if reduction == "sum":
        return total
    return total / mask.sum().clamp(min=1)
