"""Transformer 编码器、解码器堆叠及其掩码的示意图。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
