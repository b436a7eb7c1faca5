"""基准测试：训练技巧页面里的每个“更快/更省”都用这里的函数测，而不是凭印象。

- **计时时钟**用 ``torch.utils.benchmark.timer``（``torch.utils.benchmark.Timer`` 内部用的同一个
  时钟）：读数前先同步加速器。CUDA 内核是异步的，只用 ``time.perf_counter`` 量到的是“提交”
  内核的时间；旧的手写版本在没传 ``device`` 时正是这样悄悄地只量了启动开销。
- 为什么不直接调 ``Timer.timeit``/``blocked_autorange``：``timeit`` 每调用一次都先额外预热两次，
  ``blocked_autorange`` 自己决定重复次数（毫秒级的函数会被包成上百次一块），页面要测“一个
  epoch”这样的慢函数时代价成倍增加；``Timer`` 默认还把 PyTorch 限制为 1 个线程，CPU 上的测量会
  悄悄变样。这里用同一个同步时钟，但预热次数、重复次数和线程数都由调用者决定。
- 先预热（cuDNN 选算法、``torch.compile`` 编译、缓存分配器扩容都发生在最初几次调用），
  再报告多次重复的**中位数**和最小/最大值：单次测量受调度和频率波动影响太大。
- :func:`train_step_fn` 把“一个完整训练步”包成无参函数，:func:`peak_memory_mb` 量峰值显存，
  各条技巧之间的数字于是可以直接比较。
"""

from __future__ import annotations

import functools
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "Timing",
    "benchmark",
    "compare",
    "gpu_skip_reason",
    "peak_memory_mb",
    "train_step_fn",
]


@dataclass(frozen=True)
class Timing:
    """一次基准测试的结果（毫秒）。``times_ms`` 是每次重复的原始读数。"""

    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    times_ms: tuple[float, ...] = ()

    def __str__(self) -> str:
        return (
            f"{self.name}: 中位数 {self.median_ms:.3f} ms（最小 {self.min_ms:.3f}，"
            f"最大 {self.max_ms:.3f}，{self.repeats} 次）"
        )


@functools.cache
def _torch_timer() -> Callable[[], float]:
    """第一次计时时才导入 ``torch.utils.benchmark``。

    它在导入时会经由 ``torch.utils.cpp_extension`` 向 stderr 记一条“找不到 CUDA 运行时”的警告；
    构建书时 stderr 会变成构建警告，所以导入期间把这个记录器调到 ERROR。
    """
    logger = logging.getLogger("torch.utils.cpp_extension")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils.benchmark import timer
    finally:
        logger.setLevel(previous)
    return timer


def synced_clock() -> float:
    """与 ``torch.utils.benchmark.Timer`` 相同的时钟：有 CUDA 时先同步再读时间（秒）。"""
    return _torch_timer()()


def benchmark(
    fn: Callable[[], object],
    *,
    name: str = "",
    warmup: int = 3,
    repeats: int = 10,
) -> Timing:
    """预热 ``warmup`` 次后重复 ``repeats`` 次调用 ``fn``，返回中位数等统计。

    每次读数前后都同步加速器，所以 GPU 上的异步工作被完整计入，不必（也不能）再指定设备。
    """
    if repeats < 1:
        raise ValueError(f"repeats 至少为 1，收到 {repeats} / repeats must be >= 1")
    if warmup < 0:
        raise ValueError(f"warmup 不能为负，收到 {warmup} / warmup must be >= 0")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for _ in range(repeats):
        started = synced_clock()
        fn()
        times.append((synced_clock() - started) * 1e3)
    return Timing(name, statistics.median(times), min(times), max(times), repeats, tuple(times))


def compare(
    candidates: dict[str, Callable[[], object]], *, baseline: str | None = None, **kwargs
) -> dict[str, Timing]:
    """依次测量多个实现并打印相对于 ``baseline``（默认第一个）的加速比。"""
    results = {name: benchmark(fn, name=name, **kwargs) for name, fn in candidates.items()}
    base = results[baseline or next(iter(results))]
    for timing in results.values():
        print(f"{timing}  -> 相对 {base.name}：{base.median_ms / timing.median_ms:.2f}x")
    return results


def gpu_skip_reason(what: str) -> str | None:
    """没有 CUDA 时返回一句说明（页面照实打印），有 CUDA 时返回 ``None``。"""
    if torch.cuda.is_available():
        return None
    return f"跳过：{what}需要 CUDA GPU，本次构建运行在 CPU 上。"


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
