"""表格数据：翼型自噪声（airfoil）等。"""

from __future__ import annotations

import numpy as np
import torch

from dlzh.data.download import fetch


def load_airfoil(n: int = 1500, standardize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """NASA 翼型自噪声数据：5 个特征（频率、攻角、弦长、自由流速度、位移厚度）-> 声压级。

    与 d2l 一致：先用全部 1503 行的均值和标准差把每一列标准化，再取前 ``n`` 行。
    返回 ``features``：``(n, 5)``，``labels``：``(n, 1)``，均为 float32。
    """
    table = np.loadtxt(fetch("airfoil", "airfoil_self_noise.dat"), dtype=np.float32)  # (1503, 6)
    if table.ndim != 2 or table.shape[1] != 6:
        raise ValueError(f"airfoil 数据应为 6 列，实际形状 {table.shape} / unexpected shape")
    if standardize:
        table = (table - table.mean(axis=0)) / table.std(axis=0)
    data = torch.from_numpy(table[:n])
    return data[:, :-1].contiguous(), data[:, -1:].contiguous()
