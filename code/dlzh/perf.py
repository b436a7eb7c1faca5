"""训练技巧页面的 GPU 测量共用的两块积木：一个“完整训练步”的闭包和峰值显存。

每个“更快/更省”的说法都按同一方式测：用 :func:`train_step_fn` 包好一步训练
（清梯度、前向、反向、更新），交给 :func:`dlzh.bench.benchmark` 预热后取中位数；
显存用 :func:`peak_memory_mb`。这样各条技巧之间的数字可以直接比较。
这些函数在 CPU 上同样能跑（测试就在 CPU 上跑），只是页面只在 GPU 上报告数字。
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["peak_memory_mb", "train_step_fn"]


def train_step_fn(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    amp_dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    max_norm: float | None = None,
) -> Callable[[], torch.Tensor]:
    """返回一个无参函数，每次调用在 ``(inputs, targets)`` 上做一次完整的训练步，返回损失（不同步）。

    - ``amp_dtype``：``torch.float16`` / ``torch.bfloat16`` 时用 ``torch.autocast`` 包住前向和损失；
      ``None`` 为全 fp32。
    - ``scaler``：fp16 时传入 ``torch.amp.GradScaler``；设置了 ``max_norm`` 时先 ``unscale_``
      再裁剪，顺序与正确的训练循环一致。
    - 返回的损失留在设备上：基准测试里不调用 ``.item()``，以免每步强制同步。
    """
    loss_fn = loss_fn or nn.functional.cross_entropy
    device_type = inputs.device.type

    def step() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = loss_fn(model(inputs), targets)
        if scaler is not None:
            scaler.scale(loss).backward()
            if max_norm is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            if max_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
        return loss.detach()

    return step


def peak_memory_mb(fn: Callable[[], object], device: torch.device | str) -> float | None:
    """运行一次 ``fn``，返回这期间 CUDA 缓存分配器的峰值占用（MiB）；非 CUDA 设备返回 ``None``。

    峰值包含调用前已经分配的张量（模型参数、优化器状态），与 ``nvidia-smi`` 看到的
    保留显存不同：后者还包括分配器缓存但未使用的块。
    """
    device = torch.device(device)
    if device.type != "cuda":
        fn()
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) / 2**20
