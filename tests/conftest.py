"""测试的公共设置：所有测试默认在 CPU、quick 档位、隔离的数据目录下运行。"""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
# 单元测试不得依赖数据镜像：每个测试自己造小样例。
os.environ.pop("DLZH_DATA_MIRROR", None)


@pytest.fixture(autouse=True)
def _isolated_data_dirs(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DLZH_DATA_DIR", str(cache))
    monkeypatch.delenv("DLZH_DATA_MIRROR", raising=False)
    # CI 为整书构建设置的下载方式（镜像排在 URL 之后、不重试）不能改变单元测试的前提。
    for name in ("DLZH_DATA_MIRROR_LAST", "DLZH_DOWNLOAD_RETRIES", "DLZH_SMOKE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DLZH_DEVICE", "cpu")
    yield


# ---------------------------------------------------------------------------
# 跳过会掩盖故障：CI 模式（CI=true，或本地 DLZH_STRICT_TESTS=1）下，被跳过的测试算失败，
# 除非它在下面的允许清单里并写明原因。例如缺了中文字体、Node.js 或 timm 时测试会“跳过”，
# 本地这样提示就够了，但在 CI 里它意味着环境没装好，测试其实没有运行。
STRICT = (
    os.environ.get("CI", "").strip().lower() == "true"
    or os.environ.get("DLZH_STRICT_TESTS", "").strip() == "1"
)

# 节点 ID（或其前缀，如 "tests/gpu/"）-> 允许在 CI 中跳过的原因。
# 目前没有：CI 安装了测试需要的一切。只在 GPU 上有意义的测试加进来时写在这里，例如
# "tests/train/test_amp.py::test_fp16_on_cuda": "只在 CUDA 上运行，CI 的 runner 没有 GPU"。
ALLOWED_SKIPS: dict[str, str] = {}


def _allowed_skip(nodeid: str) -> str | None:
    """``nodeid`` 在允许清单里时返回原因：键可以是完整的节点 ID、文件或目录前缀。"""
    for key, reason in ALLOWED_SKIPS.items():
        prefixes = (key,) if key.endswith(("/", "::")) else (key + "::", key + "[")
        if nodeid == key or nodeid.startswith(prefixes):
            return reason
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (STRICT and report.skipped) or hasattr(report, "wasxfail"):
        return
    if _allowed_skip(item.nodeid) is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"CI 模式下跳过即失败（CI=true 或 DLZH_STRICT_TESTS=1）：{reason}\n"
        "请装好这个测试需要的环境；确实只能跳过时，把它连同原因加进 tests/conftest.py 的 ALLOWED_SKIPS。\n"
        f"/ skipped in strict (CI) mode and not in ALLOWED_SKIPS: {reason}"
    )
