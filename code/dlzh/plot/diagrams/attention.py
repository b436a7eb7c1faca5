"""注意力机制的示意图：查询、键、值与注意力汇聚，多头注意力，自注意力与位置编码。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

__all__: list[str] = []
