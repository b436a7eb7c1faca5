"""训练：一个通用循环 + 回调、评估和度量。"""

from dlzh.train.loop import Callback, History, TrainState, evaluate, fit, in_book_build, summarize
from dlzh.train.metrics import Accumulator, accuracy, correct_count
from dlzh.train.scratch import ScratchSGD

__all__ = [
    "Accumulator",
    "Callback",
    "History",
    "ScratchSGD",
    "TrainState",
    "accuracy",
    "correct_count",
    "evaluate",
    "fit",
    "in_book_build",
    "summarize",
]
