"""训练页面的“学会了吗”检查：训练结束后断言损失下降、准确率过线，否则让构建失败。

一页训练代码即使完全没学到东西（准确率停在随机猜测的 0.1），也能顺利执行完、画出曲线。
每个训练页面在训练之后调用 :func:`assert_learned`，于是“没学会”会变成构建错误，而不是
悄悄发布一张平坦的曲线。
"""

from __future__ import annotations

from collections.abc import Mapping

from dlzh.profile import is_smoke


class NotLearnedError(AssertionError):
    """训练结果没有达到页面声明的下限。"""


def assert_learned(
    history: object,
    *,
    min_test_acc: float | None = None,
    min_train_acc: float | None = None,
    max_test_loss: float | None = None,
    initial_loss: float | None = None,
    loss_drop: float = 0.9,
    loss_key: str = "train_loss",
) -> str:
    """断言训练确实学到了东西，返回并打印一行中文结论。

    - 最终的 ``loss_key`` 必须低于起点的 ``loss_drop`` 倍。起点默认是第一个 epoch 的平均损失；
      只有一个 epoch 时请传入训练前测得的 ``initial_loss``。
    - ``min_test_acc`` / ``min_train_acc`` / ``max_test_loss``：页面声明的下限（上限）。
    - 冒烟模式（每个循环只跑几个批量）下不可能学会，只打印一行说明，不做断言。

    ``history`` 可以是 :class:`dlzh.train.History`，也可以是 ``{"train_loss": [...], ...}`` 这样的字典。
    """
    if is_smoke():
        line = "学习检查：冒烟模式只运行几个批量，跳过（完整构建会检查）。"
        print(line)
        return line

    def column(key: str) -> list[float]:
        if isinstance(history, Mapping):
            return list(history.get(key, []))
        return list(history[key])  # type: ignore[index]

    losses = column(loss_key)
    if not losses:
        raise ValueError(f"历史记录里没有 {loss_key!r} / history has no {loss_key!r} column")
    start = initial_loss if initial_loss is not None else losses[0]
    if initial_loss is None and len(losses) < 2:
        raise ValueError(
            "只有一个 epoch 时无法比较损失的起点和终点：请传入训练前的 initial_loss。"
            " / with a single epoch pass initial_loss measured before training."
        )
    final = losses[-1]
    problems: list[str] = []
    parts = [f"{loss_key} {start:.4f} → {final:.4f}"]
    if not final < loss_drop * start:
        problems.append(
            f"{loss_key} 没有降到起点的 {loss_drop:g} 倍以下（{start:.4f} → {final:.4f}）"
        )
    for key, floor in (("test_acc", min_test_acc), ("train_acc", min_train_acc)):
        if floor is None:
            continue
        values = column(key)
        if not values:
            raise ValueError(f"历史记录里没有 {key!r} / history has no {key!r} column")
        parts.append(f"{key} {values[-1]:.3f} ≥ {floor:g}")
        if not values[-1] >= floor:
            problems.append(f"{key} = {values[-1]:.3f}，低于本页声明的下限 {floor:g}")
    if max_test_loss is not None:
        values = column("test_loss")
        if not values:
            raise ValueError("历史记录里没有 'test_loss' / history has no 'test_loss' column")
        parts.append(f"test_loss {values[-1]:.4f} ≤ {max_test_loss:g}")
        if not values[-1] <= max_test_loss:
            problems.append(f"test_loss = {values[-1]:.4f}，高于本页声明的上限 {max_test_loss:g}")
    if problems:
        raise NotLearnedError(
            "训练没有达到本页声明的效果 / the model did not learn as this page claims:\n  "
            + "\n  ".join(problems)
            + "\n请检查学习率、迭代周期数和数据规模（quick 档位的设置见本页的说明框）。"
        )
    line = "学习检查通过：" + "，".join(parts)
    print(line)
    return line
