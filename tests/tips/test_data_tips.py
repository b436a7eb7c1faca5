"""数据加载技巧：DataLoader 参数的约束、worker 的效果、pin_memory 在无加速器时的行为。"""

from __future__ import annotations

import os
import time

import pytest
import torch
from torch.utils.data import DataLoader

from dlzh.data import SlowDataset


def test_slow_dataset_items_and_bounds():
    data = SlowDataset(length=3, delay=0.0, dim=2)
    x, index, pid = data[2]
    assert len(data) == 3 and torch.equal(x, torch.full((2,), 2.0))
    assert index == 2 and pid == os.getpid()
    with pytest.raises(IndexError):
        data[3]
    with pytest.raises(ValueError):
        SlowDataset(length=-1)


@pytest.mark.parametrize("kwargs", [{"prefetch_factor": 4}, {"persistent_workers": True}])
def test_prefetch_and_persistent_workers_need_workers(kwargs):
    with pytest.raises(ValueError):
        DataLoader(SlowDataset(4, delay=0.0), num_workers=0, **kwargs)


def test_defaults_depend_on_num_workers():
    data = SlowDataset(4, delay=0.0)
    with_workers = DataLoader(data, num_workers=2)
    assert with_workers.prefetch_factor == 2 and with_workers.persistent_workers is False
    assert DataLoader(data).prefetch_factor is None


def test_too_many_workers_warns():
    with pytest.warns(UserWarning, match="suggested max number of worker"):
        DataLoader(SlowDataset(4, delay=0.0), num_workers=(os.cpu_count() or 1) + 64)


@pytest.mark.skipif(torch.accelerator.is_available(), reason="只检查没有加速器时的行为")
def test_pin_memory_without_accelerator_only_warns():
    loader = DataLoader(SlowDataset(4, delay=0.0), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        x, _, _ = next(iter(loader))
    assert not x.is_pinned()


def _epoch(loader) -> tuple[float, list[int], set[int]]:
    start, indices, pids = time.perf_counter(), [], set()
    for _, index, pid in loader:
        indices += index.tolist()
        pids.update(pid.tolist())
    return time.perf_counter() - start, indices, pids


@pytest.mark.slow
def test_two_workers_read_a_sleepy_dataset_faster_and_in_order():
    data = SlowDataset(length=16, delay=0.05)
    serial, order0, pids0 = _epoch(DataLoader(data, batch_size=4))
    loader = DataLoader(data, batch_size=4, num_workers=2, persistent_workers=True)
    _epoch(loader)  # 不计 worker 启动时间
    parallel, order2, pids2 = _epoch(loader)
    assert order0 == order2 == list(range(16))
    assert pids0 == {os.getpid()} and len(pids2) == 2 and os.getpid() not in pids2
    assert parallel < 0.8 * serial, (serial, parallel)


@pytest.mark.slow
@pytest.mark.parametrize("persistent", [False, True])
def test_persistent_workers_survive_between_epochs(persistent):
    loader = DataLoader(
        SlowDataset(8, delay=0.0), batch_size=2, num_workers=2, persistent_workers=persistent
    )
    first, second = _epoch(loader)[2], _epoch(loader)[2]
    assert (first == second) is persistent
