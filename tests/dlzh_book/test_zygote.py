"""dlzh_book.zygote：内核从预先导入了 torch 的孕育进程 fork 出来，但每个内核仍然是独立的新内核。"""

from __future__ import annotations

import os
import signal
import time

import pytest

from dlzh_book import zygote

pytestmark = pytest.mark.skipif(not zygote.supported(), reason="孕育进程只用于 Linux")


def _run(kc, code: str) -> str:
    """在内核里执行一段代码，返回它打印的文字。"""
    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out).strip()


@pytest.fixture
def running_zygote(monkeypatch):
    monkeypatch.delenv(zygote.SOCKET_ENV, raising=False)
    z = zygote.Zygote()
    z.start()
    yield z
    z.stop()
    assert zygote.SOCKET_ENV not in os.environ


def _start_kernel(cwd):
    from jupyter_client.manager import start_new_kernel

    return start_new_kernel(kernel_name="python3", cwd=str(cwd))


def test_kernels_are_forked_with_torch_imported_but_their_own_cwd_env_and_random_state(
    running_zygote, tmp_path, monkeypatch
):
    seen = []
    for i in range(2):
        monkeypatch.setenv("DLZH_ZYGOTE_TEST", f"第{i}个")
        (tmp_path / str(i)).mkdir()
        km, kc = _start_kernel(tmp_path / str(i))
        try:
            assert type(km.provisioner).__name__ == "ZygoteProvisioner"
            code = (
                "import os, sys, random\n"
                "preloaded = 'torch._dynamo' in sys.modules\n"  # 内核自己还没有导入任何东西
                "print(os.getppid(), os.getcwd(), os.environ['DLZH_ZYGOTE_TEST'], preloaded,"
                " any(m == 'dlzh' or m.startswith(('dlzh.', 'dlzh_book', 'sphinx')) for m in sys.modules),"
                " random.random())"
            )
            ppid, cwd, value, preloaded, ours, rand = _run(kc, code).split(" ", 5)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        assert int(ppid) == running_zygote.process.pid
        assert cwd == str(tmp_path / str(i))
        assert value == f"第{i}个"
        assert preloaded == "True"
        # 构建工具按内核的 sys.modules 记录每页用到的 dlzh 模块：孕育进程不能替页面导入它们
        assert ours == "False"
        seen.append(rand)
    assert seen[0] != seen[1]  # 每个内核重新播种，不共用孕育进程的随机状态


def test_figures_are_displayed_inline_in_a_forked_kernel(running_zygote, tmp_path):
    """matplotlib_inline 的钩子要在内核里注册：孕育进程若替内核导入了后端模块，图就不会出现。"""
    km, kc = _start_kernel(tmp_path)
    outputs = []
    try:
        reply = kc.execute_interactive(
            "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2]);",
            timeout=60,
            output_hook=lambda msg: outputs.append(msg),
        )
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert any(
        m["msg_type"] == "display_data" and "image/png" in m["content"]["data"] for m in outputs
    )


def test_interrupt_shutdown_and_kill_reach_a_forked_kernel(running_zygote, tmp_path):
    import threading

    km, kc = _start_kernel(tmp_path)
    try:
        threading.Timer(1.0, km.interrupt_kernel).start()
        reply = kc.execute_interactive("import time; time.sleep(30)", timeout=60)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        pid = km.provisioner.pid
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{pid}")  # 孕育进程回收了它，没有僵尸进程

    km, kc = _start_kernel(tmp_path)
    process = km.provisioner.process
    kc.stop_channels()
    os.kill(km.provisioner.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    km.cleanup_resources()


def test_without_a_zygote_the_provisioner_starts_an_ordinary_kernel(tmp_path, monkeypatch):
    monkeypatch.delenv(zygote.SOCKET_ENV, raising=False)
    zygote.register_provisioner()
    km, kc = _start_kernel(tmp_path)
    try:
        assert int(_run(kc, "import os; print(os.getppid())")) == os.getpid()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def test_the_switch(monkeypatch):
    monkeypatch.delenv(zygote.SWITCH_ENV, raising=False)
    assert zygote.wanted("cpu") and not zygote.wanted("cuda")  # 有 GPU 时默认不用
    monkeypatch.setenv(zygote.SWITCH_ENV, "0")
    assert not zygote.wanted("cpu")
    monkeypatch.setenv(zygote.SWITCH_ENV, "1")
    assert zygote.wanted("cpu") and zygote.wanted("cuda")
    monkeypatch.setenv(zygote.SWITCH_ENV, "也许")
    with pytest.raises(ValueError, match="DLZH_KERNEL_ZYGOTE"):
        zygote.wanted()
