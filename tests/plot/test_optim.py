"""dlzh.plot.optim：优化轨迹图和调度曲线图，每条轨迹一条线、图例是给定的中文名、白色背景。"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlzh.optim import ill_conditioned_quadratic, optimize_2d
from dlzh.plot import (
    find_cjk_font,
    plot_curves,
    plot_schedules,
    plot_trajectories_2d,
    use_style,
)


@pytest.fixture
def trajectories():
    gd = optimize_2d(lambda p: torch.optim.SGD(p, lr=0.4), ill_conditioned_quadratic, (-5, -2), 10)
    adam = optimize_2d(
        lambda p: torch.optim.Adam(p, lr=0.5), ill_conditioned_quadratic, (-5, -2), 8
    )
    return {"梯度下降": gd, "Adam": adam}


def test_one_line_per_trajectory_with_legend(trajectories):
    use_style()
    fig = plot_trajectories_2d(
        ill_conditioned_quadratic, trajectories, (-5.5, 1), (-3, 1), title="二次函数"
    )
    ax = fig.axes[0]
    assert len(ax.lines) == len(trajectories)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(trajectories)
    for line, path in zip(ax.lines, trajectories.values(), strict=True):
        np.testing.assert_allclose(line.get_xydata(), path.numpy())  # 画的正是轨迹上的点
        assert line.get_marker() == "o"
    assert ax.get_title() == "二次函数"
    assert ax.get_xlim() == (-5.5, 1) and ax.get_ylim() == (-3, 1)
    assert ax.collections, "应当画出等高线"
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close(fig)


def test_draws_into_given_axes(trajectories):
    fig, (left, right) = plt.subplots(1, 2)
    returned = plot_trajectories_2d(
        ill_conditioned_quadratic,
        {"梯度下降": trajectories["梯度下降"]},
        (-6, 1),
        (-3, 3),
        ax=right,
    )
    assert returned is fig
    assert len(right.lines) == 1 and len(left.lines) == 0
    plot_trajectories_2d(
        ill_conditioned_quadratic, trajectories, (-6, 1), (-3, 3), ax=left, title="甲", legend=False
    )
    assert len(left.lines) == 2 and left.get_legend() is None and left.get_title() == "甲"
    plt.close(fig)


def test_empty_trajectories_draws_only_contours():
    fig = plot_trajectories_2d(lambda a, b: a**2 - b**2, {}, (-1, 1), (-1, 1))
    ax = fig.axes[0]
    assert len(ax.lines) == 0 and ax.get_legend() is None and ax.collections
    plt.close(fig)


def test_plot_schedules_one_line_each():
    use_style()
    schedules = {"常数": [0.1] * 5, "平方根": [0.1 / (t + 1) ** 0.5 for t in range(5)]}
    fig = plot_schedules(schedules, title="调度")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["常数", "平方根"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), schedules["平方根"])
    assert ax.get_ylabel() == "学习率"
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close(fig)


def test_chinese_labels_render_without_missing_glyphs(trajectories):
    if find_cjk_font() is None:
        pytest.skip("本机没有中文字体（fonts-noto-cjk）")
    use_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_trajectories_2d(
            ill_conditioned_quadratic, trajectories, (-5.5, 1), (-3, 1), title="轨迹 −1"
        )
        fig.canvas.draw()
    plt.close(fig)


def test_plot_curves_each_with_own_x():
    use_style()
    curves = {"批量 10": ([0.1, 0.2, 0.3], [3.0, 2.0, 1.0]), "批量 100": ([0.5, 1.0], [2.5, 1.5])}
    fig = plot_curves(curves, xlabel="时间（秒）", ylabel="损失", logx=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [0.5, 1.0])
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "时间（秒）"
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close(fig)
