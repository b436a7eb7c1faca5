"""学习率调度：尽量直接用 ``torch.optim.lr_scheduler``，只补上它没有现成类的几种。

所有函数都返回标准的调度器对象，可以交给回调 :class:`dlzh.train.SchedulerStep`。
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
)


def sqrt_schedule(optimizer: Optimizer, min_factor: float = 0.0) -> LambdaLR:
    """平方根衰减：:math:`\\eta_t = \\eta_0 / \\sqrt{t + 1}`，不低于 ``min_factor * eta_0``。"""
    return LambdaLR(optimizer, lambda t: max(min_factor, 1.0 / math.sqrt(t + 1)))


def factor_schedule(optimizer: Optimizer, factor: float, min_lr: float = 0.0) -> LambdaLR:
    """乘法衰减：:math:`\\eta_t = \\max(\\eta_{min}, \\eta_0 \\cdot \\alpha^t)`（d2l 的 FactorScheduler）。

    与 ``ExponentialLR`` 的区别只在下限；没有下限时二者相同。
    """
    base = optimizer.param_groups[0]["lr"]
    floor = min_lr / base if base else 0.0
    return LambdaLR(optimizer, lambda t: max(floor, factor**t))


def cosine_with_warmup(
    optimizer: Optimizer,
    warmup_steps: int,
    total_steps: int,
    final_lr: float = 0.0,
    warmup_start_factor: float = 0.01,
) -> LRScheduler:
    """先线性预热 ``warmup_steps`` 步，再余弦退火到 ``final_lr``，共 ``total_steps`` 步。

    用 ``LinearLR`` + ``CosineAnnealingLR`` + ``SequentialLR`` 拼出来，不手写公式。
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"需要 0 <= warmup_steps < total_steps，收到 {warmup_steps}, {total_steps}"
        )
    cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=final_lr)
    if warmup_steps == 0:
        return cosine
    warmup = LinearLR(
        optimizer, start_factor=warmup_start_factor, end_factor=1.0, total_iters=warmup_steps
    )
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])


def schedule_values(scheduler: LRScheduler, steps: int) -> list[float]:
    """依次调用 ``step()``，返回每一步（调用前）的学习率，用来画调度曲线。

    会改变优化器的学习率：请对一个专门用来画图的优化器调用。
    """
    values = []
    for _ in range(steps):
        values.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()  # 先 optimizer.step 再 scheduler.step，避免 PyTorch 的顺序警告
        scheduler.step()
    return values
