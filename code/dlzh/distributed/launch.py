"""用 torchrun 启动多进程演示：与读者在真实集群上的启动方式一致，只是换成 CPU + gloo。

``torchrun --standalone --nproc-per-node=2 script.py`` 会为每个进程设置 ``RANK``、
``WORLD_SIZE``、``MASTER_ADDR`` 等环境变量，脚本里用 ``init_process_group("gloo")`` 即可。
这里用 ``python -m torch.distributed.run`` 调用同一个入口，避免依赖 PATH 中的 torchrun。
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["DistributedRunError", "run_torchrun"]


class DistributedRunError(RuntimeError):
    """多进程演示失败或超时。"""


def run_torchrun(script: str | Path, *args: str, nproc: int = 2, timeout: float = 120.0) -> str:
    """用 torchrun 以 ``nproc`` 个进程运行 ``script``，返回合并后的标准输出。

    有时间上限：进程挂起（例如某个 rank 没有进入集合通信）时不会拖住整本书的构建。
    每个进程只用 1 个线程，2 核机器上两个进程不会互相争抢。
    """
    script = Path(script)
    if not script.exists():
        raise FileNotFoundError(f"找不到脚本 {script} / script not found")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        str(script),
        *args,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    # 新的进程组：超时时连同 torchrun 派生的各个 rank 一起结束，不留孤儿进程。
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as err:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise DistributedRunError(
            f"{script.name} 超过 {timeout:.0f} 秒仍未结束，已终止。 / timed out after {timeout:.0f}s"
        ) from err
    if proc.returncode != 0:
        raise DistributedRunError(
            f"{script.name} 以退出码 {proc.returncode} 结束 / failed:\n{stderr[-3000:]}"
        )
    return stdout
