"""dlzh：《动手学深度学习笔记》配套的 Python 包。

书页只做三件事：讲清一个想法、调用本包、展示真实结果。数据加载、模型、训练循环、
绘图这些可复用的代码都在这里，并由 ``tests/`` 测试。公开接口刻意保持很小：
书页只使用从本模块和各子模块 ``__all__`` 中导出的名字。
"""

import importlib
from typing import TYPE_CHECKING

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

# 子包在第一次用到时才导入（PEP 562）：``dlzh.optim.xxx`` 和 ``from dlzh import optim`` 照常可用，
# 但一页只导入它真正用到的子包。书的构建工具按页记下内核导入过哪些 dlzh 模块，改一个模块只
# 重新执行用到它的页面；如果 ``import dlzh`` 就导入全部子包，每一页都会“依赖”每一个模块。
_SUBPACKAGES = ("bench", "data", "distributed", "models", "optim", "plot", "text", "train")

if TYPE_CHECKING:
    from dlzh import bench, data, distributed, models, optim, plot, text, train


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"dlzh.{name}")
    raise AttributeError(f"module 'dlzh' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBPACKAGES))


__all__ = [
    "ConfigError",
    "RunInfo",
    "__version__",
    "bench",
    "data",
    "device_name",
    "distributed",
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
    "text",
    "train",
]
