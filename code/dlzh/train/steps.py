"""训练循环的“一步”：怎样把一个小批量变成输出和损失。

:func:`dlzh.train.fit` 与 :func:`dlzh.train.evaluate` 默认把批量看成 ``(特征, 标签)``，
算 ``loss_fn(model(特征), 标签)``（:class:`SupervisedStep`）。序列模型需要别的做法，但不需要
另一个训练循环，只需要换掉这一步：

- :class:`LanguageModelStep`：语言模型。顺序分区时把隐状态从上一个批量带过来并 ``detach``
  （梯度只在当前批量内传播，这就是截断的通过时间反向传播）；随机采样时每个批量重新初始化。
  每个迭代周期末把困惑度 ``exp(平均每词元损失)`` 写进历史（``train_ppl``/``test_ppl``）。
- :class:`Seq2SeqStep`：序列到序列。批量是 ``(X, X有效长度, Y, Y有效长度)``；解码器输入是
  ``<bos>`` 接上去掉最后一个词元的 ``Y``（强制教学），损失按有效长度屏蔽填充，按有效词元平均。

一步返回 :class:`StepOutput`：``loss`` 是 ``weight`` 个单位（样本或词元）上的**平均**损失，
循环按 ``weight`` 加权累计，所以一个迭代周期的 ``train_loss`` 是全部样本（或词元）上的平均。
``Step`` 也是一个回调（:class:`~dlzh.train.loop.Callback`），可以在迭代周期末补充记录。
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from dlzh.train.losses import masked_softmax_cross_entropy

__all__ = ["LanguageModelStep", "Seq2SeqStep", "Step", "StepOutput", "SupervisedStep"]


@dataclass
class StepOutput:
    """一步的结果。``outputs``/``labels`` 用来算准确率，没有时为 ``None``。"""

    loss: Tensor | None
    weight: int | Tensor
    outputs: Tensor | None = None
    labels: Tensor | None = None


class Step:
    """把一个（已搬到设备上的）小批量变成 :class:`StepOutput`。

    ``begin`` 在每个训练迭代周期开始和每次评估开始时调用（``training`` 区分二者），
    有状态的步骤在这里重置状态。其余方法与 :class:`~dlzh.train.loop.Callback` 相同。
    """

    def begin(self, model: nn.Module, training: bool) -> None: ...

    def __call__(self, model: nn.Module, batch: tuple[Any, ...], loss_fn) -> StepOutput:
        raise NotImplementedError

    # Callback 的钩子（fit 把 step 放在回调列表的最前面）
    def on_fit_start(self, state) -> None: ...
    def on_epoch_start(self, state) -> None: ...
    def on_before_optimizer_step(self, state) -> None: ...
    def on_optimizer_step(self, state) -> None: ...
    def on_batch_end(self, state) -> None: ...
    def on_epoch_end(self, state) -> None: ...
    def on_fit_end(self, state) -> None: ...


class SupervisedStep(Step):
    """默认的一步：批量 ``(特征, 标签)``，损失 ``loss_fn(model(特征), 标签)``，按样本数加权。"""

    def __call__(self, model: nn.Module, batch: tuple[Any, ...], loss_fn) -> StepOutput:
        features, labels = batch
        outputs = model(features)
        loss = loss_fn(outputs, labels) if loss_fn is not None else None
        return StepOutput(loss, len(labels), outputs, labels)


def detach_state(state):
    """把隐状态（张量或张量的元组，如 LSTM 的 ``(h, c)``）从计算图上切下来。"""
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


def _batch_size_of(state) -> int:
    first = state[0] if isinstance(state, tuple | list) else state
    return first.shape[1]  # 循环层的状态形状为 (层数*方向数, B, H)


class LanguageModelStep(Step):
    """语言模型的一步：批量 ``(X, Y)``，形状都是 ``(B, T)``；模型 ``model(X, state) -> (对数几率, state)``。

    ``carry_state=True``（配合顺序分区）：隐状态跨批量保留、每个批量先 ``detach``；
    每个迭代周期开始、每次评估开始、或批量大小变化时重新初始化。
    ``carry_state=False``（配合随机采样）：每个批量都从 ``model.begin_state`` 开始。
    """

    def __init__(self, carry_state: bool = True) -> None:
        self.carry_state = carry_state
        self.state = None

    def begin(self, model: nn.Module, training: bool) -> None:
        self.state = None

    def __call__(self, model: nn.Module, batch: tuple[Any, ...], loss_fn) -> StepOutput:
        x, y = batch  # (B, T), (B, T)
        state = self.state
        if not self.carry_state or state is None or _batch_size_of(state) != x.shape[0]:
            state = model.begin_state(x.shape[0], x.device)
        else:
            # 不 detach 的话，这个批量的反向传播会穿过上一个批量已经释放的计算图而报错；
            # detach 之后梯度只在当前 num_steps 个时间步内传播。
            state = detach_state(state)
        logits, self.state = model(x, state)  # (B, T, V)
        flat_logits = logits.reshape(-1, logits.shape[-1])  # (B*T, V)
        flat_labels = y.reshape(-1)  # (B*T,)
        loss_fn = loss_fn or nn.functional.cross_entropy
        return StepOutput(loss_fn(flat_logits, flat_labels), y.numel(), flat_logits, flat_labels)

    def on_epoch_end(self, state) -> None:
        record_perplexity(state.epoch_record)


class Seq2SeqStep(Step):
    """序列到序列的一步：批量 ``(X, X_valid_len, Y, Y_valid_len)``，模型 ``model(X, 解码器输入, X_valid_len)``。

    ``bos``：目标词表中 ``<bos>`` 的下标。损失是 :func:`masked_softmax_cross_entropy`
    （每个有效词元的平均），按有效词元数加权；迭代周期末同样记录困惑度。
    ``fit``/``evaluate`` 用它时请传 ``classification=False``。``label_smoothing=ε`` 时损失用
    平滑后的目标（Transformer 原论文的 ε=0.1），此时记录的困惑度是平滑损失的指数，偏高。
    """

    def __init__(self, bos: int, label_smoothing: float = 0.0) -> None:
        self.bos = bos
        self.label_smoothing = label_smoothing

    def __call__(self, model: nn.Module, batch: tuple[Any, ...], loss_fn) -> StepOutput:
        x, x_len, y, y_len = batch
        bos = torch.full((y.shape[0], 1), self.bos, dtype=y.dtype, device=y.device)
        dec_input = torch.cat([bos, y[:, :-1]], dim=1)  # (B, T)：强制教学
        logits = model(x, dec_input, x_len)  # (B, T, V)
        loss = masked_softmax_cross_entropy(logits, y, y_len, label_smoothing=self.label_smoothing)
        return StepOutput(loss, y_len.sum())

    def on_epoch_end(self, state) -> None:
        record_perplexity(state.epoch_record)


def record_perplexity(record: dict[str, float]) -> None:
    """困惑度 = exp(每词元平均交叉熵)：模型平均在多少个词元之间“犹豫”。"""
    record["train_ppl"] = math.exp(record["train_loss"])
    if "test_loss" in record:
        record["test_ppl"] = math.exp(record["test_loss"])
