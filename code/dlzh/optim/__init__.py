"""优化算法：从零实现的优化器、二维地形上的轨迹、学习率调度。"""

from dlzh.optim.landscape import ill_conditioned_quadratic, optimize_2d, rosenbrock
from dlzh.optim.param_groups import scale_lr, weight_decay_param_groups
from dlzh.optim.schedules import cosine_with_warmup, factor_schedule, schedule_values, sqrt_schedule
from dlzh.optim.scratch import (
    AdadeltaScratch,
    AdaGradScratch,
    AdamScratch,
    MomentumSGD,
    RMSPropScratch,
    ScratchSGD,
)

__all__ = [
    "AdaGradScratch",
    "AdadeltaScratch",
    "AdamScratch",
    "MomentumSGD",
    "RMSPropScratch",
    "ScratchSGD",
    "cosine_with_warmup",
    "factor_schedule",
    "ill_conditioned_quadratic",
    "optimize_2d",
    "rosenbrock",
    "scale_lr",
    "schedule_values",
    "sqrt_schedule",
    "weight_decay_param_groups",
]
