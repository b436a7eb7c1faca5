"""tests/conftest.py 的 CI 模式：被跳过的测试算失败，允许清单里的除外。"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py").read_text(encoding="utf-8")

SUITE = """
import pytest

def test_runs():
    assert True

def test_needs_a_font():
    pytest.skip("本机没有中文字体")

@pytest.mark.skipif(True, reason="只在 GPU 上运行")
def test_gpu_only():
    pass
"""


@pytest.fixture
def suite(pytester):
    allow = '\nALLOWED_SKIPS["test_suite.py::test_gpu_only"] = "CI 的 runner 没有 GPU"\n'
    pytester.makeconftest(CONFTEST + allow)
    pytester.makepyfile(test_suite=SUITE)
    return pytester


@pytest.mark.parametrize("env", [{"CI": "true"}, {"DLZH_STRICT_TESTS": "1"}])
def test_strict_mode_fails_unlisted_skips(suite, monkeypatch, env):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("DLZH_STRICT_TESTS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, skipped=1)  # GPU 测试在允许清单里：仍是跳过
    result.stdout.fnmatch_lines(["*跳过即失败*本机没有中文字体*"])


def test_without_ci_a_skip_is_only_a_skip(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("DLZH_STRICT_TESTS", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
