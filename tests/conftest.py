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
    monkeypatch.setenv("DLZH_DEVICE", "cpu")
    yield
