"""调度器的取值与闭式公式一致。"""

from __future__ import annotations

import math

import pytest
import torch

from dlzh.optim import cosine_with_warmup, factor_schedule, schedule_values, sqrt_schedule


def _optimizer(lr=0.5):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def test_sqrt_schedule():
    values = schedule_values(sqrt_schedule(_optimizer(0.5)), 10)
    assert values == pytest.approx([0.5 / math.sqrt(t + 1) for t in range(10)])


def test_factor_schedule_with_floor():
    values = schedule_values(factor_schedule(_optimizer(2.0), 0.9, min_lr=1e-2), 60)
    assert values == pytest.approx([max(1e-2, 2.0 * 0.9**t) for t in range(60)])


def test_multistep_matches_closed_form():
    sched = torch.optim.lr_scheduler.MultiStepLR(_optimizer(0.5), milestones=[15, 30], gamma=0.5)
    values = schedule_values(sched, 40)
    assert values == pytest.approx([0.5 * 0.5 ** ((t >= 15) + (t >= 30)) for t in range(40)])


def test_cosine_with_warmup_closed_form():
    base, warm, total, final = 0.3, 5, 25, 0.01
    values = schedule_values(cosine_with_warmup(_optimizer(base), warm, total, final), total)
    expected = []
    for t in range(total):
        if t < warm:
            expected.append(base * (0.01 + (1 - 0.01) * t / warm))
        else:
            k = t - warm
            expected.append(
                final + (base - final) * (1 + math.cos(math.pi * k / (total - warm))) / 2
            )
    assert values == pytest.approx(expected, rel=1e-6)
    assert max(values) == pytest.approx(base)


def test_invalid_warmup_rejected():
    with pytest.raises(ValueError, match="warmup"):
        cosine_with_warmup(_optimizer(), 10, 10)
