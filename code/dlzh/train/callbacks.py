"""通用训练循环的标准回调：学习率调度、梯度裁剪、EMA、实时曲线、检查点。

能用 PyTorch 自带实现的地方都用自带实现（``torch.nn.utils.clip_grad_norm_``、
``torch.optim.lr_scheduler``、``torch.optim.swa_utils.AveragedModel``），这里只负责
在训练循环的正确时刻调用它们，并把数值记进历史。
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from dlzh.train.checkpoint import save_checkpoint
from dlzh.train.loop import Callback, TrainState, evaluate, in_book_build


class GradClip(Callback):
    """按全局 L2 范数裁剪梯度，并记录**裁剪前**的范数（它才反映训练是否稳定）。

    fp16 时先反缩放梯度再裁剪，否则阈值比较的是被放大过的梯度。
    范数作为设备上的张量记下，由训练循环在 epoch 末一次性取回（见 ``fit``）：
    每步 ``float(norm)`` 会让 CPU 等 GPU 算完，这正是训练技巧页面提醒要避免的同步。
    """

    def __init__(self, max_norm: float, norm_type: float = 2.0) -> None:
        self.max_norm, self.norm_type = max_norm, norm_type
        self._norms: list[torch.Tensor] = []

    def on_epoch_start(self, state: TrainState) -> None:
        self._norms = []

    def on_before_optimizer_step(self, state: TrainState) -> None:
        state.unscale_grads()
        norm = torch.nn.utils.clip_grad_norm_(
            state.model.parameters(), self.max_norm, norm_type=self.norm_type
        )
        norm = norm.detach()
        self._norms.append(norm)
        state.step_record["grad_norm"] = norm  # 不调用 float()：留在设备上，epoch 末再取回

    def on_epoch_end(self, state: TrainState) -> None:
        if self._norms:
            norms = torch.stack(self._norms).float()
            finite = norms[torch.isfinite(norms)]
            state.epoch_record["grad_norm_mean"] = float(finite.mean()) if len(finite) else math.nan
            state.epoch_record["clipped_frac"] = float((norms > self.max_norm).float().mean())


class SchedulerStep(Callback):
    """按声明的粒度调用 ``scheduler.step()``：``"step"``（每次优化器更新后）或 ``"epoch"``。

    名字不叫 ``LRScheduler``：那是 ``torch.optim.lr_scheduler.LRScheduler``（调度器本身）的类名，
    这里只是在训练循环的正确时刻调用它的回调。

    OneCycleLR、带预热的余弦等按步定义的调度器必须用 ``"step"``；
    MultiStepLR、StepLR 这类以 epoch 为单位的用 ``"epoch"``。
    """

    def __init__(self, scheduler: Any, interval: str = "epoch") -> None:
        if interval not in ("step", "epoch"):
            raise ValueError(f"interval 只能是 'step' 或 'epoch'，收到 {interval!r}")
        self.scheduler, self.interval = scheduler, interval

    def on_optimizer_step(self, state: TrainState) -> None:
        state.step_record["lr"] = float(self.scheduler.get_last_lr()[0])
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, state: TrainState) -> None:
        if self.interval == "epoch":
            self.scheduler.step()


class EMA(Callback):
    """模型参数的指数移动平均：``ema = decay * ema + (1 - decay) * param``。

    用 ``AveragedModel`` + ``get_ema_multi_avg_fn`` 实现；``use_buffers=True`` 让 BN 的
    运行统计量也一起平均。每个 epoch 末在测试集上评估 EMA 模型，记为 ``test_acc_ema``。
    """

    def __init__(self, decay: float = 0.999, evaluate_on: Any = None) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay 必须在 (0, 1) 之间，收到 {decay}")
        self.decay, self.evaluate_on = decay, evaluate_on
        self.model: AveragedModel | None = None
        self._pending_state: dict[str, Any] | None = None

    def on_fit_start(self, state: TrainState) -> None:
        self.model = AveragedModel(
            state.model, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True
        )
        if self._pending_state is not None:  # 从检查点恢复：接着之前的平均继续
            self.model.load_state_dict(self._pending_state)
            self._pending_state = None

    def state_dict(self) -> dict[str, Any]:
        """EMA 模型的参数、缓冲区和已更新次数，供 :class:`Checkpoint` 保存（只含张量）。"""
        if self.model is None:
            raise RuntimeError(
                "EMA 模型还没有创建（训练开始时才创建），没有可保存的内容。"
                " / the EMA model does not exist before fit() starts."
            )
        return self.model.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """恢复 EMA；在 ``fit`` 之前调用时先存着，训练开始创建 EMA 模型后再载入。"""
        if self.model is None:
            self._pending_state = dict(state_dict)
        else:
            self.model.load_state_dict(state_dict)

    def on_optimizer_step(self, state: TrainState) -> None:
        assert self.model is not None
        self.model.update_parameters(state.model)

    def on_epoch_end(self, state: TrainState) -> None:
        if self.evaluate_on is not None and self.model is not None:
            result = evaluate(self.model, self.evaluate_on, state.loss_fn, state.device)
            state.epoch_record["test_acc_ema"] = result.get("accuracy", math.nan)


class LivePlot(Callback):
    """训练曲线：交互使用时每个 epoch 刷新一次；构建书时只在结束后画一张最终的图。"""

    def __init__(self, keys: tuple[str, ...] | None = None, title: str = "") -> None:
        self.keys, self.title = keys, title
        self._handle: Any = None
        self.figure: Any = None

    def _draw(self, state: TrainState):
        import matplotlib.pyplot as plt

        from dlzh.plot.figures import plot_history

        fig = plot_history(state.history, title=self.title, keys=self.keys)
        plt.close(fig)  # 交给 display 显示，避免 inline 后端再画一次
        return fig

    def on_epoch_end(self, state: TrainState) -> None:
        if in_book_build():
            return
        from IPython.display import display

        # on_epoch_end 时本 epoch 的记录还没进历史，先临时加入再画。
        state.history.records.append(dict(state.epoch_record))
        try:
            fig = self._draw(state)
        finally:
            state.history.records.pop()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)

    def on_fit_end(self, state: TrainState) -> None:
        self.figure = self._draw(state)
        if in_book_build() or self._handle is None:
            from IPython.display import display

            display(self.figure)
        else:
            self._handle.update(self.figure)


class Checkpoint(Callback):
    """每 ``every`` 个 epoch 保存一次检查点（模型、优化器、epoch、历史、可选的 EMA/调度器）。

    ``extra`` 里的对象按 :func:`dlzh.train.save_checkpoint` 的规则保存：带 ``state_dict()`` 的
    （调度器、:class:`EMA` 回调本身）存它的状态。EMA 请传回调对象 ``ema=ema_callback``，
    不要传 ``ema_callback.model``：后者在训练开始前还是 ``None``，以前会被悄悄丢掉。
    """

    def __init__(self, path: str | Path, every: int = 1, **extra: Any) -> None:
        missing = [key for key, value in extra.items() if value is None]
        if missing:
            raise ValueError(
                f"Checkpoint 的 {', '.join(missing)} 是 None，无法保存；EMA 请传回调对象本身"
                f"（ema=ema_callback）。 / {', '.join(missing)} is None; pass the EMA callback itself."
            )
        self.path, self.every, self.extra = Path(path), every, extra

    def on_epoch_end(self, state: TrainState) -> None:
        if state.epoch % self.every == 0 or state.epoch == state.num_epochs:
            extras = dict(self.extra)
            if state.scaler is not None:
                extras["scaler"] = state.scaler
            save_checkpoint(
                self.path,
                state.model,
                state.optimizer,
                epoch=state.epoch,
                history=[*state.history.records, dict(state.epoch_record)],
                **extras,
            )
