"""Python 与内存陷阱：numpy 共享内存、浅拷贝与深拷贝、默认参数、只在 rank 0 记日志。"""

from __future__ import annotations

import copy
import io
import logging
import time
from datetime import datetime

import numpy as np
import pytest
import torch
from torch import nn

from dlzh.logs import RankZeroFilter, current_rank, get_logger


def test_from_numpy_and_as_tensor_share_memory_but_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    shared_1, shared_2, copied = torch.from_numpy(a), torch.as_tensor(a), torch.tensor(a)
    a[0] = 100.0
    assert shared_1[0].item() == 100.0 and shared_2[0].item() == 100.0
    assert copied[0].item() == 0.0
    assert np.shares_memory(shared_1.numpy(), a)


def test_as_tensor_with_another_dtype_copies():
    a = np.zeros(3, dtype=np.float32)
    other = torch.as_tensor(a, dtype=torch.float64)
    a[1] = 7.0
    assert other[1].item() == 0.0
    assert not np.shares_memory(other.numpy(), a)


def test_tensor_numpy_shares_memory_back():
    t = torch.zeros(2)
    view = t.numpy()
    t[0] = 5.0
    assert view[0] == 5.0


def test_shallow_copy_shares_inner_lists_deepcopy_does_not():
    original = [[1, 2], [3]]
    shallow, deep = copy.copy(original), copy.deepcopy(original)
    shallow[0].append(9)
    assert original == [[1, 2, 9], [3]]
    assert deep == [[1, 2], [3]]
    shallow.append([4])  # 外层是新列表
    assert len(original) == 2


def test_state_dict_holds_references_until_deep_copied():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    ref, snap = model.state_dict(), copy.deepcopy(model.state_dict())
    with torch.no_grad():
        model.weight.add_(1.0)
    assert torch.equal(ref["weight"], model.weight)
    assert not torch.equal(snap["weight"], model.weight)


def test_mutable_default_accumulates_and_none_sentinel_does_not():
    def append_bad(x, acc=[]):  # noqa: B006 - 故意演示
        acc.append(x)
        return acc

    def append_good(x, acc=None):
        acc = [] if acc is None else acc
        acc.append(x)
        return acc

    append_bad(1)
    assert append_bad(2) == [1, 2]
    append_good(1)
    assert append_good(2) == [2]


def test_datetime_default_is_frozen_at_def_time():
    def stamp_bad(t=datetime.now()):  # noqa: B008 - 故意演示
        return t

    def stamp_good(t=None):
        return datetime.now() if t is None else t

    first = stamp_bad()
    time.sleep(0.01)
    second = stamp_bad()
    assert first is second is stamp_bad.__defaults__[0]
    assert isinstance(stamp_bad.__defaults__[0], datetime)
    assert stamp_good.__defaults__ == (None,)
    a = stamp_good()
    time.sleep(0.01)
    assert stamp_good() > a


def _logger_to(stream, name, **kwargs):
    return get_logger(name, stream=stream, fmt="%(rank)d|%(levelname)s|%(message)s", **kwargs)


@pytest.mark.parametrize(("rank", "expected"), [("0", "0|INFO|hello\n"), ("1", "")])
def test_rank_zero_filter_uses_env_rank(monkeypatch, rank, expected):
    monkeypatch.setenv("RANK", rank)
    stream = io.StringIO()
    _logger_to(stream, f"tips.rank{rank}").info("hello")
    assert stream.getvalue() == expected


def test_without_filter_every_rank_logs(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    stream = io.StringIO()
    _logger_to(stream, "tips.all", rank_zero_only=False).info("hi")
    assert stream.getvalue() == "3|INFO|hi\n"


def test_level_filtering_and_no_duplicate_handlers(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    assert current_rank() == 0
    stream = io.StringIO()
    _logger_to(stream, "tips.level", level=logging.WARNING)
    logger = _logger_to(stream, "tips.level", level=logging.WARNING)  # 第二次不叠加处理器
    logger.info("dropped")
    logger.warning("kept")
    assert stream.getvalue() == "0|WARNING|kept\n"
    assert len(logger.handlers) == 1


def test_rank_filter_with_explicit_rank():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RankZeroFilter(rank=0).filter(record) and record.rank == 0
    assert not RankZeroFilter(rank=2).filter(record)


def test_basic_config_only_configures_once_unless_forced():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        for h in root.handlers[:]:
            root.removeHandler(h)
        first, second = io.StringIO(), io.StringIO()
        logging.basicConfig(stream=first, level=logging.INFO, format="%(message)s")
        logging.basicConfig(stream=second, level=logging.INFO, format="%(message)s")
        logging.getLogger("tips.basic").info("a")
        assert first.getvalue() == "a\n" and second.getvalue() == ""
        logging.basicConfig(stream=second, format="%(message)s", force=True)
        logging.getLogger("tips.basic").warning("b")
        assert second.getvalue() == "b\n"
    finally:
        for h in root.handlers[:]:
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
