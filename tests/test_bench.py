"""计时工具。"""

from __future__ import annotations

import time

import pytest

from dlzh.bench import benchmark, compare, gpu_skip_reason


def test_benchmark_measures_sleep_and_counts_calls():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.002)

    timing = benchmark(fn, name="sleep", warmup=2, repeats=5)
    assert len(calls) == 7  # 预热 2 次 + 测量 5 次
    assert 1.5 <= timing.median_ms <= 50
    assert timing.min_ms <= timing.median_ms <= timing.max_ms
    assert timing.method == "perf_counter" and "中位数" in str(timing)


def test_compare_orders_fast_and_slow(capsys):
    results = compare(
        {"慢": lambda: time.sleep(0.006), "快": lambda: time.sleep(0.001)}, warmup=1, repeats=3
    )
    assert results["快"].median_ms < results["慢"].median_ms
    assert "相对 慢" in capsys.readouterr().out


def test_gpu_skip_reason_on_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "跳过" in gpu_skip_reason("AMP 加速") and "CPU" in gpu_skip_reason("x")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert gpu_skip_reason("x") is None


def test_repeats_must_be_positive():
    with pytest.raises(ValueError):
        benchmark(lambda: None, repeats=0)
