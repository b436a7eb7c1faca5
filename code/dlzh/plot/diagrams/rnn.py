"""现代循环神经网络的示意图：GRU 与 LSTM 单元的门、深度与双向循环网络的堆叠。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
