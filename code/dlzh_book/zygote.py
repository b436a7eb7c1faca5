"""内核的“孕育进程”（zygote）：先导入 torch 等重模块，再为每个页面 fork 出一个内核。

每个执行页面都从一个新内核开始（页面之间互不影响，这一点不变）。但一个新内核要先花大约 4 秒
导入 torch、``torch._dynamo``（第一次创建优化器时由 torch 导入）和 IPython，整本书近百页，
这部分固定开销占了 quick 构建全部执行时间的四分之一以上。孕育进程在构建开始时把这些模块导入一次，
此后每个内核都是它 fork 出来的子进程：导入过的模块已在内存里（写时复制），内核立即可用。

- 只导入第三方模块，**不导入** ``dlzh``：构建工具按内核的 ``sys.modules`` 记录每页用到的
  ``dlzh`` 模块（见 :mod:`dlzh_book.cache_guard`），预先导入会让每页都像用到了全部模块。
- 孕育进程不初始化 CUDA、不启动 OpenMP 线程池；fork 之后内核里的 torch 与新进程中的一样。
  子进程换上内核启动时应有的工作目录和环境变量，按 ``OMP_NUM_THREADS`` 设好线程数，并重新播种
  Python 和 NumPy 的全局随机数（否则所有内核共用孕育进程的随机状态）。
- 通过 jupyter_client 的内核启动器（provisioner）接入：:class:`ZygoteProvisioner` 继承默认的
  ``LocalProvisioner``，只改“怎样启动进程”；信号、中断、关闭仍按进程组处理。孕育进程不可用时
  （非 Linux、``DLZH_KERNEL_ZYGOTE=0``、它没有启动或已退出）回到普通的启动方式。

协议：Unix 套接字上一行 JSON ``{"argv", "env", "cwd"}``，回复一行 ``{"pid"}``。子进程的退出状态由
孕育进程回收后写成 ``<状态目录>/<pid>.exit``，启动器据此报告退出码。
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SOCKET_ENV = "DLZH_KERNEL_ZYGOTE_SOCKET"
SWITCH_ENV = "DLZH_KERNEL_ZYGOTE"
PROVISIONER_NAME = "dlzh-zygote"
# torch._dynamo：torch 在第一次创建优化器时才导入它（约 1.8 秒），几乎每页都会用到。
PRELOAD = (
    "torch",
    "torch._dynamo",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    # 不导入 matplotlib：它在导入时按 MPLBACKEND 定下后端，而 ipykernel 要到内核启动时才设置这个变量；
    # matplotlib_inline 的后端模块又在导入时向当前的 IPython 注册“单元结束时显示图像”的钩子，
    # 孕育进程里还没有 IPython。两者都会让页面里的图消失（测试检查了图能显示）。
)


def supported() -> bool:
    """这个平台能否使用孕育进程（需要 fork 和 pidfd，即 Linux）。"""
    return hasattr(os, "fork") and hasattr(os, "pidfd_open") and sys.platform == "linux"


def wanted(device: str = "cpu", environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """是否启用：平台支持，且没有用 ``DLZH_KERNEL_ZYGOTE=0`` 关掉。

    有 GPU 时默认不启用（``DLZH_KERNEL_ZYGOTE=1`` 可以强制启用）：孕育进程虽然不碰 CUDA，但 CUDA 驱动
    一旦在 fork 之前的进程里初始化过，fork 出的内核就用不了 GPU，这类错误难查；而 GPU 构建里每页
    真正训练的时间远多于省下的几秒。"""
    value = environ.get(SWITCH_ENV, "").strip().lower()
    if value not in {"", "0", "1", "false", "true", "no", "yes"}:
        raise ValueError(
            f"{SWITCH_ENV}={value!r} 无法识别：写 1 启用或 0 关闭。 / {SWITCH_ENV} must be 0 or 1."
        )
    if value in {"0", "false", "no"} or not supported():
        return False
    return value in {"1", "true", "yes"} or device != "cuda"


# ------------------------------------------------------------------ 孕育进程


def _reap(status_dir: Path) -> None:
    """回收已退出的子进程，把退出码写进状态目录（先写临时文件再改名，读者不会读到半个文件）。"""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        tmp = status_dir / f"{pid}.tmp"
        tmp.write_text(str(os.waitstatus_to_exitcode(status)))
        tmp.replace(status_dir / f"{pid}.exit")


def _become_kernel(request: dict[str, Any]) -> None:
    """在 fork 出的子进程里：换上内核的环境，运行 ipykernel，结束时直接退出。"""
    code = 1
    try:
        os.setsid()  # 自成进程组：中断和关闭信号发给整个组（与 jupyter_client 的做法相同）
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # 内核的父进程是孕育进程，不是启动请求里的 JPY_PARENT_PID；孕育进程消失时内核随之退出
        parent = str(os.getppid())
        os.environ["JPY_PARENT_PID"] = parent
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            import torch

            # OpenMP 在孕育进程载入时读过一次环境变量；内核的设置以启动请求为准
            torch.set_num_threads(int(threads))
        argv = request["argv"]
        # IPKernelApp 的 parent_handle 默认值在模块导入时（孕育进程里）就读过 JPY_PARENT_PID，所以也显式给出
        args = [*argv[3:], f"--IPKernelApp.parent_handle={parent}"]
        sys.argv = ["ipykernel_launcher", *args]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(path: str, status_dir: str, preload: tuple[str, ...] = PRELOAD) -> None:
    """孕育进程的主循环：先监听，再导入模块（连接请求在导入期间排队），然后逐个 fork 内核。"""
    import importlib

    status = Path(status_dir)
    status.mkdir(parents=True, exist_ok=True)
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    for name in preload:
        importlib.import_module(name)
    listener.settimeout(0.2)
    while os.getppid() == parent:  # 构建进程退出了，孕育进程也退出
        _reap(status)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(10)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            try:
                request = json.loads(data)
            except ValueError:
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _become_kernel(request)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    listener.close()


class Zygote:
    """构建进程持有的孕育进程：:meth:`start` 启动它并设好环境变量，:meth:`stop` 结束它。"""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.dir: Path | None = None

    def start(self, environ: dict[str, str] | os._Environ = os.environ) -> None:
        """以内核的环境变量启动孕育进程（导入在后台进行，不等它完成）。"""
        if self.process is not None:
            return
        self.dir = Path(tempfile.mkdtemp(prefix="dlzh-zygote-"))
        path = str(self.dir / "socket")
        # 以脚本方式运行本文件，而不是导入 dlzh_book 包：包的 __init__ 会导入 Sphinx，
        # 它们不该出现在每个内核的内存和 sys.modules 里。
        self.process = subprocess.Popen(
            [sys.executable, __file__, path, str(self.dir)],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
        )
        # 等它开始监听（不等导入完成）：之后的连接请求在它导入期间排队
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(environ)
                raise RuntimeError(
                    "内核孕育进程没能启动；可以设 DLZH_KERNEL_ZYGOTE=0 关闭它。"
                    " / the kernel zygote failed to start; set DLZH_KERNEL_ZYGOTE=0 to disable it."
                )
            time.sleep(0.02)
        environ[SOCKET_ENV] = path
        register_provisioner()

    def stop(self, environ: dict[str, str] | os._Environ = os.environ) -> None:
        environ.pop(SOCKET_ENV, None)
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.dir is not None:
            import shutil

            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


# ------------------------------------------------------------------ 启动器一侧


def request_kernel(
    path: str, argv: list[str], env: dict[str, str], cwd: str, timeout: float = 120
) -> int:
    """请孕育进程 fork 一个内核，返回它的进程号。孕育进程还在导入模块时，这里等它导入完。"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(path)
        conn.sendall(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(4096)
            if not chunk:
                raise ConnectionError("孕育进程没有回复 / the kernel zygote closed the connection")
            data += chunk
    return int(json.loads(data)["pid"])


class ForkedKernel:
    """孕育进程 fork 出的内核，提供 ``LocalProvisioner`` 用到的那部分 ``Popen`` 接口。

    它不是启动器的子进程，不能 ``waitpid``：用 pidfd 得知它是否已退出，退出码从孕育进程写下的
    状态文件读出（孕育进程已不在、没有状态文件时报告 1）。"""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, status_dir: Path) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status = status_dir / f"{pid}.exit"
        self._fd = os.pidfd_open(pid)
        self._exited_at: float | None = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self._exited_at is None:
            ready, _, _ = select.select([self._fd], [], [], 0)
            if not ready:
                return None
            self._exited_at = time.monotonic()
        if self._status.exists():
            self.returncode = int(self._status.read_text())
        elif time.monotonic() - self._exited_at > 2:  # 孕育进程不在了，没人写状态
            self.returncode = 1
        else:
            return None
        os.close(self._fd)
        self._status.unlink(missing_ok=True)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.05)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _is_ipykernel(cmd: list[str]) -> bool:
    return len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]


try:
    from jupyter_client.provisioning import LocalProvisioner
except ImportError:  # 没有 jupyter_client 的环境（只装了 dlzh）不需要启动器
    LocalProvisioner = object  # type: ignore[assignment,misc]


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc,valid-type]
    """jupyter_client 的内核启动器：有孕育进程时从它 fork 内核，否则照常启动新进程。"""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        path = os.environ.get(SOCKET_ENV)
        if not path or not _is_ipykernel(cmd) or not os.path.exists(path):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        loop = asyncio.get_running_loop()
        try:
            pid = await loop.run_in_executor(None, request_kernel, path, cmd, env, cwd)
        except OSError as exc:
            self.log.warning("孕育进程不可用（%s），改为普通方式启动内核", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(pid, Path(path).parent)
        self.pid = self.pgid = pid
        self.cwd = cwd
        return self.connection_info


def register_provisioner() -> None:
    """在本进程（及之后 fork 出的 Sphinx 读取进程）中把默认内核启动器换成 :class:`ZygoteProvisioner`。

    不走 entry point（那需要把构建工具安装成一个发行包）：直接登记进 jupyter_client 的启动器工厂。
    启动器在没有孕育进程时与默认的一样，所以登记之后不必撤销。"""
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    factory = KernelProvisionerFactory.instance()
    factory.provisioners[PROVISIONER_NAME] = EntryPoint(
        PROVISIONER_NAME, f"{__name__}:ZygoteProvisioner", KernelProvisionerFactory.GROUP_NAME
    )
    factory.default_provisioner_name = PROVISIONER_NAME


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
