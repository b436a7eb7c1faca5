"""计时工具：训练技巧页面里的每个“更快”都用它测，而不是凭印象。

- GPU 上用 CUDA 事件计时：CUDA 内核是异步的，``time.perf_counter`` 只量到了“提交”的时间。
- 先预热几次（cuDNN 选算法、torch.compile 编译、缓存分配器扩容都发生在最初几次调用）。
- 报告多次重复的**中位数**：单次测量受调度和频率波动影响太大。
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Timing:
    """一次基准测试的结果（毫秒）。"""

    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    method: str  # "cuda-event" 或 "perf_counter"

    def __str__(self) -> str:
        return (
            f"{self.name}: 中位数 {self.median_ms:.3f} ms（最小 {self.min_ms:.3f}，"
            f"最大 {self.max_ms:.3f}，{self.repeats} 次，{self.method}）"
        )


def benchmark(
    fn: Callable[[], object],
    *,
    name: str = "",
    warmup: int = 3,
    repeats: int = 10,
    device: torch.device | str | None = None,
) -> Timing:
    """预热 ``warmup`` 次后重复 ``repeats`` 次调用 ``fn``，返回中位数等统计。"""
    if repeats < 1:
        raise ValueError("repeats 至少为 1 / repeats must be >= 1")
    device = torch.device(device) if device is not None else torch.device("cpu")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        method = "cuda-event"
    else:
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1e3)
        method = "perf_counter"
    return Timing(name, statistics.median(times), min(times), max(times), repeats, method)


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
    return f"跳过：{what}需要 CUDA GPU，本次构建运行在 CPU 上，不给出也不编造 GPU 数字。"
