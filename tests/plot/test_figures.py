"""dlzh.plot.figures：曲线、训练历史和图像网格。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlzh.plot import plot_history, plot_lines, show_images
from dlzh.train import History


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_lines_accepts_tensors_a_dict_and_default_x():
    fig = plot_lines(None, {"a": torch.tensor([3.0, 2.0, 1.0]), "b": [1, 2, 3]}, logy=True)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert np.array_equal(lines[0].get_xdata(), [1, 2, 3])  # 没给 x 时从 1 开始
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    single = plot_lines([0, 1], [5, 6])
    assert single.axes[0].get_legend() is None  # 单条无名曲线不画图例


def test_plot_history_uses_chinese_labels_and_integer_epoch_ticks():
    history = History()
    for epoch, loss, acc in [(1, 0.9, 0.6), (2, 0.6, 0.7), (3, 0.4, 0.8)]:
        history.append({"epoch": epoch, "train_loss": loss, "train_acc": acc, "lr": 0.1})
    ax = plot_history(history, title="测试").axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["训练损失", "训练准确率"]  # lr 不画
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)
    only = plot_history(history, keys=["lr"]).axes[0]
    assert [line.get_label() for line in only.get_lines()] == ["lr"]


def test_show_images_handles_each_layout_and_leaves_extra_cells_empty():
    gray = torch.rand(2, 1, 8, 8)
    rgb = torch.rand(1, 3, 8, 6)
    fig = show_images([gray[0], gray[1, 0], rgb[0]], 2, 2, titles=["一", "二", "三"])
    axes = fig.axes
    shapes = [ax.get_images()[0].get_array().shape for ax in axes[:3]]
    assert shapes == [(8, 8), (8, 8), (8, 6, 3)]  # (1,H,W) 去掉通道，(3,H,W) 转成 (H,W,3)
    assert axes[3].get_images() == [] and [ax.get_title() for ax in axes[:3]] == ["一", "二", "三"]
