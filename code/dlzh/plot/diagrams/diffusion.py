"""扩散模型的示意图：前向加噪链与反向去噪链。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
