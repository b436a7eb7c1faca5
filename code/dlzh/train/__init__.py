"""训练：一个通用循环 + 回调（调度、裁剪、EMA、曲线、检查点）、混合精度、损失、评估和度量。"""

from dlzh.train import losses
from dlzh.train.amp import AmpSetting, resolve_amp
from dlzh.train.callbacks import EMA, Checkpoint, GradClip, LivePlot, SchedulerStep
from dlzh.train.checkpoint import load_checkpoint, save_checkpoint
from dlzh.train.checks import NotLearnedError, assert_learned
from dlzh.train.history import History
from dlzh.train.loop import Callback, TrainState, evaluate, fit, in_book_build, summarize
from dlzh.train.metrics import accuracy, correct_count, predict_labels
from dlzh.train.steps import LanguageModelStep, Seq2SeqStep, Step, StepOutput, SupervisedStep

__all__ = [
    "EMA",
    "AmpSetting",
    "Callback",
    "Checkpoint",
    "GradClip",
    "History",
    "LanguageModelStep",
    "LivePlot",
    "NotLearnedError",
    "SchedulerStep",
    "Seq2SeqStep",
    "Step",
    "StepOutput",
    "SupervisedStep",
    "TrainState",
    "accuracy",
    "assert_learned",
    "correct_count",
    "evaluate",
    "fit",
    "in_book_build",
    "load_checkpoint",
    "losses",
    "predict_labels",
    "resolve_amp",
    "save_checkpoint",
    "summarize",
]
