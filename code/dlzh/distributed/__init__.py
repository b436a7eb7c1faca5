"""多进程训练：torchrun 启动器、只让 rank 0 说话的日志，以及可以用 torchrun 运行的演示脚本。

- :mod:`dlzh.distributed.launch`：:func:`run_torchrun` 用 ``torchrun`` 启动 N 个 CPU + gloo 进程，
  有时间上限，失败时给出清楚的错误；
- :mod:`dlzh.distributed.logs`：:func:`get_logger` 与 :class:`RankZeroFilter`；
- :mod:`dlzh.distributed.demos`：DDP、ZeRO/FSDP 的检查脚本及其输出的解析。
"""

from dlzh.distributed.demos import DDP_CHECK, DEMOS, ZERO_CHECK, parse_checks
from dlzh.distributed.launch import DistributedRunError, run_torchrun
from dlzh.distributed.logs import RankZeroFilter, current_rank, get_logger

__all__ = [
    "DDP_CHECK",
    "DEMOS",
    "ZERO_CHECK",
    "DistributedRunError",
    "RankZeroFilter",
    "current_rank",
    "get_logger",
    "parse_checks",
    "run_torchrun",
]
