"""dlzh：《动手学深度学习笔记》配套的 Python 包。

书页只做三件事：讲清一个想法、调用本包、展示真实结果。数据加载、模型、训练循环、
绘图这些可复用的代码都在这里，并由 ``tests/`` 测试。公开接口刻意保持很小：
书页只使用从本模块和各子模块 ``__all__`` 中导出的名字。
"""

from dlzh import data, models, optim, plot, train
from dlzh.config import (
    ConfigError,
    RunInfo,
    device_name,
    get_device,
    get_profile,
    is_quick,
    pick,
    run_info,
    set_seed,
)
from dlzh.page import start_page
from dlzh.profile import is_smoke, settings

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "RunInfo",
    "__version__",
    "data",
    "device_name",
    "get_device",
    "get_profile",
    "is_quick",
    "is_smoke",
    "models",
    "optim",
    "pick",
    "plot",
    "run_info",
    "set_seed",
    "settings",
    "start_page",
    "train",
]
