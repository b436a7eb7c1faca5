"""运行配置：执行档位 (profile)、设备选择、随机种子和每页末尾的运行信息。

整本书只有一个开关决定“跑多大”：环境变量 ``DLZH_PROFILE``。

- ``full``：发布网站用的档位，在 GPU 上用书中真实的超参数（轮数、批量大小、图像尺寸）。
- ``quick``：CPU 上的小子集、少步数，让整本书在 2 核笔记本上几分钟内构建完。

两个档位走同一条代码路径，只有规模不同；页面通过 :func:`pick` 在一处写下两组数值。
"""

from __future__ import annotations

import os
import platform
import random
import time
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

PROFILE_ENV = "DLZH_PROFILE"
DEVICE_ENV = "DLZH_DEVICE"
PROFILES = ("quick", "full")

T = TypeVar("T")

# 记录导入时刻：书页的第一个代码单元导入 dlzh，因此 run_info() 可以报告整页的墙钟时间。
_PAGE_START = time.perf_counter()


class ConfigError(ValueError):
    """环境变量取值非法时抛出，消息同时给出中文和英文说明。"""


def get_profile() -> str:
    """返回当前档位 ``quick`` 或 ``full``。

    未设置 ``DLZH_PROFILE`` 时：有 CUDA 就用 ``full``（发布构建），否则 ``quick``，
    这样读者在笔记本上直接 ``jb build book`` 也不会跑上几个小时。
    """
    value = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "quick"
    if value not in PROFILES:
        raise ConfigError(
            f"环境变量 {PROFILE_ENV}={value!r} 无效，只能是 'quick' 或 'full'。"
            f" / {PROFILE_ENV}={value!r} is invalid; set it to 'quick' or 'full'."
        )
    return value


def is_quick() -> bool:
    """当前是否为 quick 档位。"""
    return get_profile() == "quick"


def pick(quick: T, full: T) -> T:
    """按档位在两组数值中选一个：页面把两种规模写在同一行，读者一眼能看到差别。"""
    return quick if is_quick() else full


def get_device(preference: str | None = None) -> torch.device:
    """解析设备，只解析一次再向下传递。

    ``preference`` 为 ``None`` 时读取环境变量 ``DLZH_DEVICE``，再退回 ``"auto"``：
    依次尝试 CUDA、Apple MPS，最后是 CPU。
    """
    choice = (preference or os.environ.get(DEVICE_ENV, "") or "auto").strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as err:
        raise ConfigError(
            f"无法识别的设备 {choice!r}；可用 'auto'、'cpu'、'cuda'、'cuda:0' 等。"
            f" / Unknown device {choice!r}; use 'auto', 'cpu', 'cuda', 'cuda:0', ..."
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"请求了设备 {choice!r}，但本机没有可用的 CUDA；请改用 'cpu' 或 'auto'。"
            f" / Device {choice!r} requested but CUDA is not available; use 'cpu' or 'auto'."
        )
    return device


def set_seed(seed: int = 0, deterministic: bool = False) -> torch.Generator:
    """为 Python、NumPy 和 PyTorch（含所有 GPU）设置随机种子，返回一个已播种的 CPU 生成器。

    导入 dlzh 时不会自动播种：随机性应当由页面显式控制。``deterministic=True`` 会要求
    PyTorch 只用确定性算法，代价是部分 GPU 算子变慢。
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def device_name(device: torch.device | None = None) -> str:
    """人类可读的设备名，例如 ``NVIDIA A10G`` 或 ``CPU (x86_64, 2 线程)``。"""
    device = device or get_device()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} 线程)"


# run_info() 在笔记本里输出文字，并把同样的信息以字典放进这个输出的元数据（键为 RUN_INFO_KEY）：
# 页面只显示文字，书的构建工具（dlzh_book 的执行报告）从已执行的笔记本里读出字典。
RUN_INFO_KEY = "dlzh.run_info"


def peak_memory_mib() -> float | None:
    """本进程（书页的内核）到目前为止的峰值常驻内存（MiB）；平台不支持时返回 None。"""
    try:
        import resource
    except ImportError:  # Windows 没有 resource 模块
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux 以 KiB 为单位，macOS 以字节为单位
    return peak / 2**20 if platform.system() == "Darwin" else peak / 2**10


@dataclass(frozen=True)
class RunInfo:
    """一页执行结束时的运行环境摘要。"""

    profile: str
    device: str
    torch_version: str
    python_version: str
    wall_time_s: float
    smoke: bool = False
    cuda_version: str | None = None
    peak_memory_mib: float | None = None
    # 本页内核导入过的 dlzh 模块：构建工具据此判断哪些页面依赖哪些模块
    modules: tuple[str, ...] = ()

    def __str__(self) -> str:
        profile = f"{self.profile}（冒烟）" if self.smoke else self.profile
        memory = (
            "" if self.peak_memory_mib is None else f" | 峰值内存 {self.peak_memory_mib:.0f} MiB"
        )
        return (
            f"运行信息：档位 {profile} | 设备 {self.device} | PyTorch {self.torch_version}"
            f" | Python {self.python_version} | 本页用时 {self.wall_time_s:.1f} 秒{memory}"
        )

    def as_dict(self) -> dict:
        return {**self.__dict__, "modules": list(self.modules)}


def run_info(show: bool = True) -> RunInfo:
    """汇总档位、设备、版本、本页墙钟时间和峰值内存；每个执行页面的最后一个单元调用它。"""
    import sys

    from dlzh.profile import is_smoke

    info = RunInfo(
        profile=get_profile(),
        device=device_name(),
        torch_version=torch.__version__,
        python_version=platform.python_version(),
        wall_time_s=time.perf_counter() - _PAGE_START,
        smoke=is_smoke(),
        cuda_version=torch.version.cuda,
        peak_memory_mib=peak_memory_mib(),
        modules=tuple(sorted(m for m in sys.modules if m == "dlzh" or m.startswith("dlzh."))),
    )
    if show:
        ipython = sys.modules.get("IPython")
        if ipython is not None and ipython.get_ipython() is not None:
            from IPython.display import display

            display({"text/plain": str(info)}, metadata={RUN_INFO_KEY: info.as_dict()}, raw=True)
        else:
            print(info)
    return info
