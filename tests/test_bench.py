"""dlzh.bench：同步加速器的计时、比较、训练步闭包和峰值显存。"""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dlzh import bench
from dlzh.bench import benchmark, compare, gpu_skip_reason, peak_memory_mb, train_step_fn


def test_benchmark_measures_sleep_and_counts_calls():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.002)

    timing = benchmark(fn, name="sleep", warmup=2, repeats=5)
    assert len(calls) == 7  # 预热 2 次 + 测量 5 次，没有隐藏的额外调用
    assert len(timing.times_ms) == timing.repeats == 5
    assert all(t >= 1.5 for t in timing.times_ms)  # sleep 只会更长，不会更短
    assert timing.min_ms <= timing.median_ms <= timing.max_ms
    assert "中位数" in str(timing) and "5 次" in str(timing)


def test_every_reading_goes_through_the_synchronising_clock(monkeypatch):
    """每次读数都经过 torch.utils.benchmark 的同步时钟（有加速器时它先同步再读数）。"""
    ticks = iter(range(100))
    readings = []

    def fake_clock():
        readings.append(1)
        return float(next(ticks))

    monkeypatch.setattr(bench, "synced_clock", fake_clock)
    timing = benchmark(lambda: None, warmup=1, repeats=3)
    assert len(readings) == 6  # 每次重复前后各一次
    assert timing.times_ms == (1000.0, 1000.0, 1000.0)  # 假时钟每次走 1 秒


def test_compare_orders_fast_and_slow(capsys):
    results = compare(
        {"慢": lambda: time.sleep(0.006), "快": lambda: time.sleep(0.001)}, warmup=1, repeats=3
    )
    assert results["快"].median_ms < results["慢"].median_ms
    assert "相对 慢" in capsys.readouterr().out


def test_gpu_skip_reason_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    reason = gpu_skip_reason("AMP 加速")
    assert reason.startswith("跳过：AMP 加速") and "CPU" in reason
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert gpu_skip_reason("x") is None


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}])
def test_invalid_counts_are_rejected(kwargs):
    with pytest.raises(ValueError):
        benchmark(lambda: None, **kwargs)


def _toy_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(256, 20, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    return model, X, y


@pytest.mark.parametrize(
    ("amp_dtype", "use_scaler"),
    [(None, False), (torch.bfloat16, False), (torch.float16, True)],
)
def test_train_step_fn_learns_and_keeps_fp32_parameters(amp_dtype, use_scaler):
    model, X, y = _toy_problem()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("cpu") if use_scaler else None
    step = train_step_fn(model, X, y, opt, amp_dtype=amp_dtype, scaler=scaler, max_norm=1.0)
    losses = [step().item() for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_train_step_fn_fp32_equals_a_hand_written_step():
    model, X, y = _toy_problem()
    twin, _, _ = _toy_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    train_step_fn(model, X, y, opt)()
    twin_opt.zero_grad()
    F.cross_entropy(twin(X), y).backward()
    twin_opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_peak_memory_is_none_on_cpu_but_the_function_runs():
    calls = []
    assert peak_memory_mb(lambda: calls.append(1), "cpu") is None
    assert calls == [1]


def test_first_timing_writes_nothing_to_stderr() -> None:
    """书页把 stderr 当构建警告：导入 torch.utils.benchmark 时那条 CUDA 警告不能漏出来。"""
    import subprocess
    import sys

    code = "import dlzh.bench as b; b.benchmark(lambda: None, repeats=1, warmup=0)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stderr == ""
