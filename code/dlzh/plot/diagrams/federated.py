"""联邦学习的示意图：一轮 FedAvg（服务器、被抽中的客户端、本地训练、加权平均）。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
