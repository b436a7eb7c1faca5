"""多进程训练的日志：只让 rank 0 说话。

``torchrun`` 为每个进程设置环境变量 ``RANK``；``init_process_group`` 之后也可以问
``torch.distributed.get_rank()``。不加过滤时，N 个进程会把同一行日志打印 N 遍。
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

import torch.distributed as dist

__all__ = ["RankZeroFilter", "current_rank", "get_logger"]


def current_rank() -> int:
    """当前进程的全局 rank：进程组已初始化时问它，否则读 ``RANK``，都没有就是 0。"""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


class RankZeroFilter(logging.Filter):
    """只放行 rank 0 的日志记录，并把 rank 写进记录（格式串里可以用 ``%(rank)d``）。

    rank 在每条记录到达时才查询，所以过滤器可以在 ``init_process_group`` 之前创建。
    """

    def __init__(self, rank: int | None = None) -> None:
        super().__init__()
        self._rank = rank

    def filter(self, record: logging.LogRecord) -> bool:
        rank = self._rank if self._rank is not None else current_rank()
        record.rank = rank
        return rank == 0


def get_logger(
    name: str,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    rank_zero_only: bool = True,
    fmt: str = "%(asctime)s [rank %(rank)d] %(levelname)s %(name)s: %(message)s",
) -> logging.Logger:
    """返回一个带自己处理器的具名日志器（不传播到根日志器，重复调用不会叠加处理器）。"""
    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RankZeroFilter() if rank_zero_only else _RankTagger())
    logger.addHandler(handler)
    return logger


class _RankTagger(logging.Filter):
    """不过滤，只给记录补上 rank 字段，让同一个格式串在所有进程上都能用。"""

    def filter(self, record: logging.LogRecord) -> bool:
        record.rank = current_rank()
        return True
