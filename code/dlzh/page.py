"""书页的开场：每页第一个（隐藏的）代码单元调用 :func:`start_page`。"""

from __future__ import annotations

import time

import torch

from dlzh import config
from dlzh.plot.style import use_style


def start_page(seed: int = 0) -> torch.device:
    """设置绘图样式、播种随机数、重置本页计时，返回本页使用的设备。"""
    use_style()
    config.set_seed(seed)
    config._PAGE_START = time.perf_counter()
    return config.get_device()
