"""模型：从零实现的各章模型，与 ``torch.nn`` 的对应实现一起在测试中对照。"""

from dlzh.models.linear import (
    LinearRegressionScratch,
    SoftmaxRegressionScratch,
    cross_entropy,
    cross_entropy_from_logits,
    softmax,
    squared_loss,
)

__all__ = [
    "LinearRegressionScratch",
    "SoftmaxRegressionScratch",
    "cross_entropy",
    "cross_entropy_from_logits",
    "softmax",
    "squared_loss",
]
