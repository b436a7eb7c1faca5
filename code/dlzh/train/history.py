"""训练历史：:func:`dlzh.train.fit` 的返回值，也是 :func:`dlzh.plot.plot_history` 的输入。

单独成模块，是为了让 ``dlzh.plot`` 只依赖这个数据结构，而不依赖训练循环：
训练回调（实时曲线）要调用绘图，绘图又要读历史，放在循环里就成了互相导入。
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """每个 epoch 一条记录：``{"epoch": 1, "train_loss": ..., "train_acc": ..., ...}``。"""

    records: list[dict[str, float]] = field(default_factory=list)
    # 每次优化器更新一条（仅当回调记录了内容时），如学习率、裁剪前的梯度范数。
    steps: list[dict[str, float]] = field(default_factory=list)

    def append(self, record: dict[str, float]) -> None:
        self.records.append(dict(record))

    def __getitem__(self, key: str) -> list[float]:
        """按列取值，例如 ``history["train_loss"]``。"""
        return [r[key] for r in self.records if key in r]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> dict[str, float]:
        return self.records[-1] if self.records else {}

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self.records:
            seen.update(dict.fromkeys(record))
        return list(seen)
