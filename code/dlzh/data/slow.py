"""一个“慢”数据集：每取一个样本先等待一段时间，模拟读磁盘、解码图片时的 I/O 等待。

它定义在包里而不是书页里，是因为 DataLoader 的 worker 进程要能按名字导入数据集类：
在 macOS 和 Windows（默认用 spawn 启动 worker）上，笔记本里定义的类在 worker 中找不到。
"""

from __future__ import annotations

import os
import time

import torch
from torch.utils.data import Dataset


class SlowDataset(Dataset):
    """``length`` 个样本，每个 ``__getitem__`` 先 ``time.sleep(delay)``。

    第 ``i`` 个样本是 ``(x, i, pid)``：``x`` 是全为 ``i`` 的长度 ``dim`` 向量，``pid`` 是处理它的
    进程号，用来观察样本由哪个 worker 读取、worker 是否在 epoch 之间被保留。
    """

    def __init__(self, length: int = 32, delay: float = 0.02, dim: int = 4) -> None:
        if length < 0 or delay < 0:
            raise ValueError("length 和 delay 不能为负 / length and delay must be >= 0")
        self.length, self.delay, self.dim = length, delay, dim

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        time.sleep(self.delay)
        return torch.full((self.dim,), float(index)), index, os.getpid()
