"""目标检测的示意图：多尺度锚框、SSD 的多尺度预测头、R-CNN 系列的对比。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
