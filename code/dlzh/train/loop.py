"""全书唯一的通用训练循环。

各章不复制这个循环，而是通过回调（:class:`Callback`）插入自己的逻辑：学习率调度、
梯度裁剪、混合精度、EMA、实时曲线等都以回调或参数的形式接入。循环本身只做四件事：
前向、反向、更新参数、记录历史。
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from dlzh.config import get_device
from dlzh.profile import SMOKE_BATCHES, is_smoke
from dlzh.train.amp import AmpSetting, resolve_amp
from dlzh.train.history import History
from dlzh.train.metrics import correct_count
from dlzh.train.steps import Step, SupervisedStep

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainState:
    """回调能看到和修改的训练状态。

    ``step`` 数的是**优化器更新**的次数；梯度累加时，``accumulate`` 个小批量才算一步。
    """

    model: nn.Module
    optimizer: Any
    loss_fn: LossFn
    device: torch.device
    num_epochs: int
    history: History
    amp: AmpSetting
    scaler: torch.amp.GradScaler | None = None
    accumulate: int = 1
    epoch: int = 0
    step: int = 0
    batch_idx: int = 0
    batch: tuple[torch.Tensor, torch.Tensor] | None = None
    outputs: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    epoch_record: dict[str, float] = field(default_factory=dict)
    step_record: dict[str, float] = field(default_factory=dict)
    stop: bool = False
    _unscaled: bool = False

    def unscale_grads(self) -> None:
        """在读取或修改梯度（裁剪、求范数）之前调用：fp16 时梯度被 GradScaler 放大过。

        同一步里只会真正反缩放一次，多个回调都调用它也没关系。
        """
        if self.scaler is not None and not self._unscaled:
            self.scaler.unscale_(self.optimizer)
        self._unscaled = True


class Callback:
    """回调基类：按需覆盖下列方法，默认什么都不做。

    调用顺序：``on_fit_start`` -> 每个 epoch：``on_epoch_start`` -> 每个小批量：
    [``on_before_optimizer_step`` -> 优化器更新 -> ``on_optimizer_step``]（仅在累加满时）
    -> ``on_batch_end`` -> 评估 -> ``on_epoch_end`` -> 最后 ``on_fit_end``。
    """

    def on_fit_start(self, state: TrainState) -> None: ...
    def on_epoch_start(self, state: TrainState) -> None: ...
    def on_before_optimizer_step(self, state: TrainState) -> None: ...
    def on_optimizer_step(self, state: TrainState) -> None: ...
    def on_batch_end(self, state: TrainState) -> None: ...
    def on_epoch_end(self, state: TrainState) -> None: ...
    def on_fit_end(self, state: TrainState) -> None: ...


def in_book_build() -> bool:
    """是否在构建书（或其他非交互环境）中运行：此时不显示逐批进度条，只打印摘要。"""
    if os.environ.get("DLZH_BUILD"):
        return True
    return (
        not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
        and "ipykernel" not in sys.modules
    )


def evaluate(
    model: nn.Module,
    data_iter: Iterable[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: LossFn | None = None,
    device: torch.device | None = None,
    classification: bool = True,
    step: Step | None = None,
) -> dict[str, float]:
    """在整个数据集上计算平均损失和（分类时的）准确率，不记录梯度、模型切到评估模式。

    ``step`` 说明怎样由一个批量算出输出和损失（默认 ``(特征, 标签)``，见 :mod:`dlzh.train.steps`）。
    """
    device = device or next(iter(model.parameters()), torch.empty(0)).device
    step = step or SupervisedStep()
    was_training = model.training
    model.eval()
    step.begin(model, training=False)
    # 与 fit 一样在设备上累加，结束后才取回主机：每个批量 float(loss) 都会强制一次 GPU 同步。
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    limit = SMOKE_BATCHES if is_smoke() else None
    with torch.inference_mode():
        for batch_idx, batch in enumerate(data_iter):
            if limit is not None and batch_idx >= limit:
                break  # 冒烟模式：只检查代码路径，不求完整的评估结果
            result = step(model, _to_device(batch, device), loss_fn)
            n = result.weight
            if result.loss is not None:
                loss_sum += result.loss.float() * n
            if classification:
                correct += correct_count(*_metric_pair(result))
            seen = seen + n
    model.train(was_training)
    seen = int(seen)  # 权重是设备上的张量（如有效词元数）时，只在这里同步一次
    result: dict[str, float] = {}
    if loss_fn is not None or not isinstance(step, SupervisedStep):
        result["loss"] = float(loss_sum) / max(seen, 1)
    if classification:
        result["accuracy"] = int(correct) / max(seen, 1)
    return result


def fit(
    model: nn.Module,
    train_iter: Iterable[tuple[torch.Tensor, torch.Tensor]],
    num_epochs: int,
    *,
    optimizer: Any,
    loss_fn: LossFn | None = None,
    test_iter: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    classification: bool = True,
    amp: str | None = None,
    accumulate: int = 1,
    verbose: bool = True,
    step: Step | None = None,
) -> History:
    """训练 ``num_epochs`` 个 epoch，返回 :class:`History`。

    - ``loss_fn`` 应返回批量上的**平均**损失（``nn.CrossEntropyLoss()`` 的默认行为），
      这样学习率的含义不随批量大小改变。
    - ``optimizer`` 可以是 ``torch.optim`` 的优化器，也可以是任何带 ``zero_grad()`` 和
      ``step()`` 的对象（例如从零实现的 SGD）。
    - ``amp``：``None``（默认，fp32）、``"auto"``、``"bf16"`` 或 ``"fp16"``，见
      :func:`dlzh.train.amp.resolve_amp`。
    - ``accumulate=k``：每 k 个小批量才更新一次参数，每个小批量的损失乘以 1/k，
      于是累加出的梯度等于 k 个小批量拼成的大批量的平均梯度（模型不含 BN 时严格相等）。
      epoch 末不足 k 个的尾组按实际个数缩放，同样是平均梯度。
    - 学习率调度、梯度裁剪、EMA、实时曲线、检查点都通过 ``callbacks`` 接入
      （见 :mod:`dlzh.train.callbacks`）。
    - ``step``：怎样由一个批量算出输出和损失，默认批量是 ``(特征, 标签)``。语言模型（跨批量
      保留并 detach 隐状态、困惑度）和序列到序列（按有效长度屏蔽的损失）各有一个，
      见 :mod:`dlzh.train.steps`；批量可以是任意长度的元组。
    """
    if accumulate < 1:
        raise ValueError(f"accumulate 必须 >= 1，收到 {accumulate} / accumulate must be >= 1")
    device = get_device(device) if isinstance(device, str) or device is None else device
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    step = step or SupervisedStep()
    callbacks = [step, *callbacks]  # 步骤也是回调（如在迭代周期末记录困惑度），排在最前
    model.to(device)
    setting = resolve_amp(amp, device)
    scaler = torch.amp.GradScaler(device.type) if setting.use_scaler else None
    history = History()
    state = TrainState(
        model, optimizer, loss_fn, device, num_epochs, history, setting, scaler, accumulate
    )
    progress = None if in_book_build() or not verbose else _make_progress(num_epochs, train_iter)
    try:
        num_batches: int | None = len(train_iter)  # type: ignore[arg-type]
    except TypeError:
        num_batches = None
    smoke_limit = SMOKE_BATCHES if is_smoke() else None
    if smoke_limit is not None:
        num_epochs = min(num_epochs, 1)  # 冒烟模式只验证代码路径：一个 epoch、几个批量
        state.num_epochs = num_epochs
        num_batches = smoke_limit if num_batches is None else min(num_batches, smoke_limit)
    for cb in callbacks:
        cb.on_fit_start(state)

    for epoch in range(1, num_epochs + 1):
        state.epoch = epoch
        state.epoch_record = {"epoch": float(epoch)}
        model.train()
        optimizer.zero_grad()
        step.begin(model, training=True)
        for cb in callbacks:
            cb.on_epoch_start(state)
        # 损失和正确数留在设备上累加，到 epoch 末才取回主机：每个批量都 float(loss)
        # 会强制 GPU 同步，拖慢训练。
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen, pending, epoch_started = 0, 0, time.perf_counter()
        first_step_record = len(history.steps)
        for batch_idx, batch in enumerate(train_iter):
            if smoke_limit is not None and batch_idx >= smoke_limit:
                break  # 冒烟模式：full 档位的设置，每个 epoch 只跑几个批量
            state.batch_idx = batch_idx
            state.batch = batch = _to_device(batch, device)
            with setting.autocast():
                result = step(model, batch, loss_fn)
            loss = result.loss
            group = _group_size(batch_idx, accumulate, num_batches)
            scaled = loss / group
            (scaler.scale(scaled) if scaler is not None else scaled).backward()
            pending += 1
            outputs = result.outputs
            state.outputs = outputs.detach() if outputs is not None else None
            state.loss = loss.detach()
            if pending == group:
                _optimizer_step(state, callbacks)
                pending = 0
            n = result.weight
            loss_sum += state.loss.float() * n
            if classification:  # 与 evaluate 用同一个定义（metrics.predict_labels）
                correct += correct_count(*_metric_pair(result))
            seen = seen + n
            for cb in callbacks:
                cb.on_batch_end(state)
            if progress is not None:
                progress.update(1)
        if pending:  # 长度未知的迭代器最后剩下的小批量
            _optimizer_step(state, callbacks)
        seen = int(seen)  # 权重是设备上的张量（如有效词元数）时，只在这里同步一次
        _fetch_step_records(history.steps, first_step_record)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        # 吞吐量按整个训练 epoch 的墙钟时间计算（含取数据，不含评估），反映真实的训练速度。
        train_time = time.perf_counter() - epoch_started
        record = state.epoch_record
        record["train_loss"] = float(loss_sum) / max(seen, 1)
        if classification:
            record["train_acc"] = int(correct) / max(seen, 1)
        record["examples_per_sec"] = seen / max(train_time, 1e-9)
        groups = getattr(optimizer, "param_groups", None)
        if groups:
            record["lr"] = float(groups[0]["lr"])
        if test_iter is not None:
            scores = evaluate(model, test_iter, loss_fn, device, classification, step)
            record["test_loss"] = scores["loss"]
            if classification:
                record["test_acc"] = scores["accuracy"]
        for cb in callbacks:
            cb.on_epoch_end(state)
        history.append(record)
        if progress is not None:
            progress.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k != "epoch"})
        if state.stop:
            break

    for cb in callbacks:
        cb.on_fit_end(state)
    if progress is not None:
        progress.close()
    if verbose:
        print(summarize(history, device, setting.label if setting.enabled else None))
    return history


def _to_device(batch: Any, device: torch.device) -> tuple[Any, ...]:
    """把批量（任意长度的元组或列表）中的张量搬到 ``device``，其余元素原样保留。"""
    return tuple(x.to(device) if isinstance(x, torch.Tensor) else x for x in batch)


def _metric_pair(result: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """分类准确率需要输出和标签；步骤没有给出时说明应当关掉 classification。"""
    if result.outputs is None or result.labels is None:
        raise ValueError(
            "这个训练步骤不产出分类输出，请传 classification=False。"
            " / This step yields no class outputs; pass classification=False."
        )
    return result.outputs, result.labels


def _group_size(batch_idx: int, accumulate: int, num_batches: int | None) -> int:
    """当前小批量所在累加组的大小：通常是 k，epoch 末的尾组可能更小。"""
    if num_batches is None:
        return accumulate
    start = (batch_idx // accumulate) * accumulate
    return min(accumulate, num_batches - start)


def _optimizer_step(state: TrainState, callbacks: Sequence[Callback]) -> None:
    state.step_record = {}
    state._unscaled = False
    for cb in callbacks:
        cb.on_before_optimizer_step(state)
    if state.scaler is not None:
        state.scaler.step(state.optimizer)  # 梯度含 inf/nan 时跳过这一步
        state.scaler.update()
    else:
        state.optimizer.step()
    state.optimizer.zero_grad()
    state.step += 1
    for cb in callbacks:
        cb.on_optimizer_step(state)
    if state.step_record:
        state.history.steps.append({"step": float(state.step), **state.step_record})


def _fetch_step_records(records: list[dict[str, Any]], start: int) -> None:
    """把本 epoch 步记录里留在设备上的 0 维张量（如梯度范数）一次取回主机，换成 float。

    回调每步记录张量而不是 ``float(...)``，整个 epoch 只在这里同步一次。
    """
    slots = [
        (record, key)
        for record in records[start:]
        for key, value in record.items()
        if isinstance(value, torch.Tensor)
    ]
    by_device: dict[torch.device, list[tuple[dict[str, Any], str]]] = {}
    for record, key in slots:
        by_device.setdefault(record[key].device, []).append((record, key))
    for group in by_device.values():  # 每个设备一次传输（通常只有一个设备）
        values = torch.stack([record[key].float().reshape(()) for record, key in group]).tolist()
        for (record, key), value in zip(group, values, strict=True):
            record[key] = value


def _make_progress(num_epochs: int, train_iter: Iterable) -> Any:
    from tqdm.auto import tqdm

    try:
        total = num_epochs * len(train_iter)  # type: ignore[arg-type]
    except TypeError:
        total = None
    return tqdm(total=total, desc="训练", unit="batch", leave=False)


def summarize(
    history: History, device: torch.device | str | None = None, precision: str | None = None
) -> str:
    """一行中文摘要：最终损失、训练/测试准确率、吞吐量。"""
    last = history.last
    parts = [
        f"epoch {int(last.get('epoch', 0))}",
        f"训练损失 {last.get('train_loss', float('nan')):.4f}",
    ]
    if "train_acc" in last:
        parts.append(f"训练准确率 {last['train_acc']:.3f}")
    if "test_acc" in last:
        parts.append(f"测试准确率 {last['test_acc']:.3f}")
    elif "test_loss" in last:
        parts.append(f"测试损失 {last['test_loss']:.4f}")
    if "train_ppl" in last:  # 语言模型与序列到序列（见 dlzh.train.steps）
        parts.append(f"困惑度 {last['train_ppl']:.2f}")
    speed = f"{last.get('examples_per_sec', 0.0):,.0f} 样本/秒"
    if device is not None:
        speed += f"（{device}{'，' + precision if precision else ''}）"
    parts.append(speed)
    return "，".join(parts)
