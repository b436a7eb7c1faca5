"""DDPM 的训练一步：随机时间步、加噪、让网络预测噪声，损失是预测噪声与真实噪声的均方误差。

这就是 Ho 等人（2020）的简化目标 :math:`L_\\text{simple}`（论文算法 1）。它只是
:class:`dlzh.train.Step` 的一种，所以扩散模型照样用全书唯一的训练循环 :func:`dlzh.train.fit`
训练（传 ``classification=False``），不另写循环。
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from dlzh.diffusion.schedule import NoiseSchedule
from dlzh.train.steps import Step, StepOutput

__all__ = ["DiffusionStep"]


class DiffusionStep(Step):
    """批量 ``(x_0, ...)``（标签等其余元素不用）；模型 ``model(x_t, t)`` 预测噪声。

    每个样本独立地均匀抽取时间步 :math:`t\\in\\{0,\\dots,T-1\\}` 和噪声 :math:`\\epsilon`，
    返回 ``‖ε - ε_θ(x_t, t)‖²`` 在所有元素上的平均（``loss_fn`` 被忽略），按样本数加权。
    随机数取自 ``generator``（CPU 上生成再搬到设备上，CPU 和 GPU 上可复现）；不给时用全局随机数。
    """

    def __init__(self, schedule: NoiseSchedule, generator: torch.Generator | None = None) -> None:
        self.schedule = schedule
        self.generator = generator

    def __call__(self, model: nn.Module, batch: tuple[Any, ...], loss_fn) -> StepOutput:
        x0 = batch[0]  # (B, ...)
        n = x0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (n,), generator=self.generator)  # (B,)
        noise = torch.randn(x0.shape, generator=self.generator)  # 与 x0 同形
        t, noise = t.to(x0.device), noise.to(x0.device, x0.dtype)
        xt = self.schedule.add_noise(x0, t, noise)
        loss = F.mse_loss(model(xt, t), noise)
        return StepOutput(loss, n)
