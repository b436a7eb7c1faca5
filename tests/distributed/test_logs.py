"""dlzh.distributed.logs：只让 rank 0 输出的日志器。"""

from __future__ import annotations

import io
import logging

import pytest

from dlzh.distributed import RankZeroFilter, current_rank, get_logger


def _logger_to(stream, name, **kwargs):
    return get_logger(name, stream=stream, fmt="%(rank)d|%(levelname)s|%(message)s", **kwargs)


@pytest.mark.parametrize(("rank", "expected"), [("0", "0|INFO|hello\n"), ("1", "")])
def test_rank_zero_filter_uses_env_rank(monkeypatch, rank, expected):
    monkeypatch.setenv("RANK", rank)
    stream = io.StringIO()
    _logger_to(stream, f"dlzh-test.rank{rank}").info("hello")
    assert stream.getvalue() == expected


def test_without_filter_every_rank_logs(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    stream = io.StringIO()
    _logger_to(stream, "dlzh-test.all", rank_zero_only=False).info("hi")
    assert stream.getvalue() == "3|INFO|hi\n"


def test_level_filtering_and_no_duplicate_handlers(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    assert current_rank() == 0
    stream = io.StringIO()
    _logger_to(stream, "dlzh-test.level", level=logging.WARNING)
    logger = _logger_to(stream, "dlzh-test.level", level=logging.WARNING)  # 第二次不叠加处理器
    logger.info("dropped")
    logger.warning("kept")
    assert stream.getvalue() == "0|WARNING|kept\n"
    assert len(logger.handlers) == 1


def test_rank_filter_with_explicit_rank():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RankZeroFilter(rank=0).filter(record) and record.rank == 0
    assert not RankZeroFilter(rank=2).filter(record)


def test_logger_does_not_propagate_to_root(monkeypatch, caplog):
    monkeypatch.setenv("RANK", "0")
    stream = io.StringIO()
    with caplog.at_level(logging.INFO):
        _logger_to(stream, "dlzh-test.propagate").info("once")
    assert stream.getvalue() == "0|INFO|once\n" and caplog.records == []
