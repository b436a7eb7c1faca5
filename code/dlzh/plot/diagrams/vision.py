"""计算机视觉的其他示意图：转置卷积对每个输入元素的“散布”、全卷积网络（FCN）。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
