"""dlzh.page：每页的开场单元设置样式、播种、重置计时并返回设备。"""

from __future__ import annotations

import time

import matplotlib as mpl
import torch

import dlzh
from dlzh import config


def test_start_page_seeds_resets_the_clock_and_returns_the_device(monkeypatch):
    monkeypatch.setenv("DLZH_DEVICE", "cpu")
    config._PAGE_START = time.perf_counter() - 1000.0  # 假装上一页已经跑了很久
    device = dlzh.start_page(seed=3)
    first = torch.rand(3)
    assert device == torch.device("cpu")
    assert time.perf_counter() - config._PAGE_START < 60  # 计时从这一页重新开始
    assert dlzh.run_info(show=False).wall_time_s < 60
    dlzh.start_page(seed=3)
    assert torch.equal(torch.rand(3), first)  # 同一个种子，同样的随机数
    dlzh.start_page(seed=4)
    assert not torch.equal(torch.rand(3), first)


def test_start_page_applies_the_white_figure_style():
    mpl.rcParams["figure.facecolor"] = "none"
    dlzh.start_page()
    assert mpl.colors.to_hex(mpl.rcParams["figure.facecolor"]) == "#ffffff"
