"""训练和评估用到的度量。

“预测的类别”只在 :func:`predict_labels` 一处定义，训练准确率（:func:`dlzh.train.fit` 在设备上
累加）和测试准确率（:func:`dlzh.train.evaluate`）都调用它，两者因此不会各算各的：

- ``(B, C)``、``C > 1`` 的对数几率：取 ``argmax``；
- 只有一个对数几率（``(B, 1)`` 或 ``(B,)`` 的浮点数，二分类配 ``BCEWithLogitsLoss``）：
  ``sigmoid(z) > 0.5`` 等价于 ``z > 0``，预测为正类 1，否则为 0；
- 整数张量：已经是类别下标，原样使用。
"""

from __future__ import annotations

import torch

__all__ = ["accuracy", "correct_count", "predict_labels"]


def predict_labels(outputs: torch.Tensor) -> torch.Tensor:
    """模型输出 -> 预测的类别下标，形状 ``(B,)``。规则见模块说明。"""
    if not outputs.is_floating_point():
        return outputs.reshape(len(outputs))  # 已经是类别下标；每个样本只能有一个
    if outputs.ndim > 1 and outputs.shape[1] > 1:
        return outputs.argmax(dim=1)  # (B, C) -> (B,)
    return (outputs.reshape(len(outputs)) > 0).long()  # (B, 1) 或 (B,) 的单个对数几率


def correct_count(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """预测正确的样本数，留在 ``outputs`` 所在的设备上（0 维整数张量）。

    不在这里转成 Python 的 ``int``：训练循环每个批量都调用它，转换会强制一次 GPU 同步。
    标签可以是 ``(B,)``、二分类常见的 ``(B, 1)`` 浮点 0/1，或 ``(B, C)`` 的概率目标
    （标签平滑、MixUp/CutMix 之后），后者按概率最大的类计。
    """
    predicted = predict_labels(outputs)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(dim=1)  # (B, C) 概率目标 -> (B,)
    return (predicted == labels.reshape(predicted.shape).to(predicted.dtype)).sum()


def accuracy(outputs: torch.Tensor, labels: torch.Tensor) -> float:
    """预测正确的比例。"""
    return int(correct_count(outputs, labels)) / max(len(labels), 1)
