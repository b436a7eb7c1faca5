"""扩散模型（DDPM）：噪声调度与前向/反向过程（``schedule``）、训练一步（``step``）、二维玩具数据（``toy``）。

它位于 :mod:`dlzh.train` 之上（训练一步继承 :class:`dlzh.train.Step`），去噪网络在
:mod:`dlzh.models.unet`。
"""

from dlzh.diffusion.schedule import NoiseSchedule, linear_betas, sample
from dlzh.diffusion.step import DiffusionStep
from dlzh.diffusion.toy import energy_distance, s_curve

__all__ = ["DiffusionStep", "NoiseSchedule", "energy_distance", "linear_betas", "s_curve", "sample"]
