"""dlzh.plot.diagrams：每张示意图都有应有的部件、文字和算出来的数。"""

from __future__ import annotations

import io
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from dlzh.plot import diagrams


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def all_text(fig) -> str:
    return "\n".join(texts(fig))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# 需要页面给出输入的图：这里给一个最小的例子（其余的图都有默认参数）。
REQUIRED_ARGS = {"vit_patches": (torch.rand(3, 32, 32), 8)}


@pytest.mark.parametrize("name", [n for n in diagrams.__all__ if n != "network_stack"])
def test_every_diagram_renders_white_without_missing_glyphs(name):
    """没有缺字警告，背景是白色（深色模式下可读），图不是空白的。"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing" 是 UserWarning
        fig = getattr(diagrams, name)(*REQUIRED_ARGS.get(name, ()))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=40)
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    image = np.asarray(Image.open(buffer).convert("L"), dtype=float)
    assert image[0, 0] == 255  # 角落是白色背景
    assert image.std() > 10, "图几乎是空白的"


def test_conv_sliding_window_computes_the_output():
    fig = diagrams.conv_sliding_window()
    # 3×3 输入、2×2 核、2×2 输出：共 9 + 4 + 4 个格子。
    assert len(parts(fig, "dlzh-cell")) == 17
    text = all_text(fig)
    assert {"输入", "卷积核", "输出"} <= set(texts(fig))
    # d2l 的例子：0×0 + 1×1 + 3×2 + 4×3 = 19，右下角是 43。
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in text
    assert {"19", "25", "37", "43"} <= set(texts(fig))


def test_padding_enlarges_the_output_and_shows_the_padded_zeros():
    fig = diagrams.padding(1)
    cells = parts(fig, "dlzh-cell")
    assert len(cells) == 25 + 4 + 16  # 5×5 填充后的输入、核、4×4 输出
    gray = [c for c in cells if matplotlib.colors.to_hex(c.get_facecolor()) == "#e6e6e6"]
    assert len(gray) == (25 - 9) - 3  # 一圈 16 个填充格，其中 3 个在蓝色窗口里
    assert "输出从 2×2 变为 4×4" in all_text(fig)


def test_stride_shows_two_windows_apart_by_the_horizontal_stride():
    fig = diagrams.stride((3, 2))
    cells = parts(fig, "dlzh-cell")
    assert len(cells) == 25 + 4 + 4  # 输出 floor((5-2)/3)+1 × floor((5-2)/2)+1 = 2×2
    blue = [c.get_x() for c in cells if matplotlib.colors.to_hex(c.get_facecolor()) == "#6fa8dc"]
    orange = [c.get_x() for c in cells if matplotlib.colors.to_hex(c.get_facecolor()) == "#f6b26b"]
    assert min(orange[:4]) - min(blue[:4]) == 2  # 第二个窗口向右移动了水平步幅
    assert {"0", "8", "6"} <= set(texts(fig))  # d2l 的结果 [[0, 8], [6, 8]]


@pytest.mark.parametrize(("mode", "expected"), [("max", "= 4"), ("avg", "= 2")])
def test_pooling_formula(mode, expected):
    fig = diagrams.pooling(mode)
    assert len(parts(fig, "dlzh-cell")) == 9 + 4
    assert expected in all_text(fig)
    assert ("最大汇聚" if mode == "max" else "平均汇聚") in all_text(fig)


def test_lenet_shapes_come_from_the_model():
    fig = diagrams.lenet()
    boxes = parts(fig, "dlzh-box")
    # 输入 + 2×(卷积, 汇聚) + 展平 + 3 个全连接层；激活函数并入前一层。
    assert len(boxes) == 1 + 4 + 1 + 3
    assert len(parts(fig, "dlzh-arrow")) == len(boxes) - 1
    labels = set(texts(fig))
    assert {
        "1×28×28",
        "6×28×28",
        "6×14×14",
        "16×10×10",
        "16×5×5",
        "400",
        "120",
        "84",
        "10",
    } <= labels
    assert "5×5 卷积，6 通道，填充 2 + sigmoid" in labels


def test_alexnet_shapes_come_from_the_model():
    fig = diagrams.alexnet()
    labels = set(texts(fig))
    assert {"96×54×54", "256×5×5", "6400", "4096"} <= labels
    assert "11×11 卷积，96 通道，填充 1，步幅 4 + ReLU" in labels
    assert sum("最大汇聚" in t for t in labels) == 1  # 三个相同说明的汇聚层合成一个集合元素
    assert len(parts(fig, "dlzh-box")) == 1 + 5 + 3 + 1 + 3


def test_network_stack_rejects_layers_it_cannot_describe():
    from torch import nn

    with pytest.raises(ValueError, match="unsupported layer"):
        diagrams.network_stack(nn.Sequential(nn.Linear(2, 2), nn.GELU()), (2,))


@pytest.mark.parametrize("num_convs", [1, 3])
def test_vgg_block_has_one_box_per_conv(num_convs):
    fig = diagrams.vgg_block(num_convs)
    boxes = parts(fig, "dlzh-box")
    assert len(boxes) == num_convs + 3  # 输入、汇聚、输出
    assert sum(t == "3×3 卷积，填充 1 + ReLU" for t in texts(fig)) == num_convs


def test_nin_block_has_two_1x1_convolutions():
    fig = diagrams.nin_block()
    assert sum(t == "1×1 卷积 + ReLU" for t in texts(fig)) == 2
    assert len(parts(fig, "dlzh-box")) == 5


def test_inception_block_has_four_paths_joined_by_concatenation():
    fig = diagrams.inception_block()
    labels = texts(fig)
    assert sum(t.startswith("1×1 卷积") for t in labels) == 4
    assert {
        "3×3 卷积，填充 1，128 通道",
        "5×5 卷积，填充 2，32 通道",
        "3×3 最大汇聚，填充 1",
    } <= set(labels)
    # 通道数来自前向计算：GoogLeNet 第三个模块的第一个块输出 64+128+32+32=256 个通道。
    assert "通道维上拼接：64+128+32+32=256 通道" in labels
    assert "通道维上拼接：10+20+30+40=100 通道" in texts(
        diagrams.inception_block(8, c1=10, c2=(4, 20), c3=(4, 30), c4=40)
    )
    # 输入 -> 4 条路径起点，4 条路径内部 3 个箭头，4 个路径终点 -> 拼接，拼接 -> 输出。
    assert len(parts(fig, "dlzh-arrow")) == 4 + 3 + 4 + 1


def test_residual_block_adds_the_input():
    fig = diagrams.residual_block()
    assert len(fig.axes) == 2
    plus = [t for t in texts(fig) if t == "+"]
    assert len(plus) == 2
    assert "恒等映射" in texts(fig) and "1×1 卷积" in texts(fig)


def test_dense_block_channel_counts_follow_the_growth_rate():
    fig = diagrams.dense_block(num_convs=2, in_channels=3, growth_rate=10)
    text = all_text(fig)
    assert "3+10=13 通道" in text and "13+10=23 通道" in text  # d2l：输出 23 个通道
    fig = diagrams.dense_block(num_convs=3, in_channels=4, growth_rate=5)
    assert "14+5=19 通道" in all_text(fig)


def test_normalization_axes_shade_the_right_sets():
    fig = diagrams.normalization_axes(n=4, c=6, hw=4, groups=3)
    assert [ax.get_title() for ax in fig.axes] == [
        "批量归一化",
        "层归一化",
        "实例归一化",
        "组归一化（3 组）",
    ]
    shaded = []
    for ax in fig.axes:
        faces = [p for p in ax.patches if p.get_gid() == "dlzh-cell"]
        shaded.append(sum(matplotlib.colors.to_hex(p.get_facecolor()) == "#6fa8dc" for p in faces))
    # 每个可见的小立方体画 3 个面。BN：一个通道的正面一列（4）+ 顶面沿样本的一排（其余 3 个）；
    # LN：一个样本的全部通道（6×4）；IN：一个样本一个通道（4）；GN：一个样本两个通道（8）。
    assert shaded == [3 * (4 + 3), 3 * 24, 3 * 4, 3 * 8]


def test_computational_graph_shows_autograd_values():
    fig = diagrams.computational_graph(x=2.0, w=3.0, b=1.0)
    labels = set(texts(fig))
    # L = (w·x + b)² = 49；∂L/∂v = 2v = 14，∂L/∂w = 14·x = 28，∂L/∂x = 14·w = 42。
    assert {"6", "7", "49"} <= labels
    assert {"∂L/∂v = 14", "∂L/∂w = 28", "∂L/∂x = 42", "∂L/∂b = 14"} <= labels
    fig = diagrams.computational_graph(x=1.0, w=-2.0, b=0.5)
    assert "∂L/∂x = 6" in set(texts(fig))  # 2·(−1.5)·(−2)


def test_momentum_vs_sgd_draws_both_paths_from_dlzh_optim():
    fig = diagrams.momentum_vs_sgd(steps=20)
    ax = fig.axes[0]
    paths = [line for line in ax.get_lines() if len(line.get_xdata()) == 21]
    assert len(paths) == 2
    assert paths[0].get_xdata()[0] == -5.0 and paths[0].get_ydata()[0] == -2.0
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("梯度下降") and legend[1].startswith("动量法")
    # 图例里的函数值是算出来的：动量法 20 步后更接近最小值。
    values = [float(t.rsplit("f = ", 1)[1].rstrip("）")) for t in legend]
    assert values[1] < values[0]


def test_mlp_computational_graph_has_d2l_nodes_and_real_shapes():
    fig = diagrams.mlp_computational_graph(n=8, d=5, h=4, q=3)
    labels = set(texts(fig))
    # 10 个变量方框 + 6 个运算圆圈。
    assert len(parts(fig, "dlzh-box")) == 16
    assert {"$\\mathbf{X}$", "$\\mathbf{W}^{(1)}$", "$J$", "$s$"} <= labels
    # 形状来自前向计算：Z、H 是 n×h，O 是 n×q。
    assert {"8×5", "4×5", "8×4", "3×4", "8×3"} <= labels
    assert "6×4" in set(texts(diagrams.mlp_computational_graph(n=6, d=5, h=4, q=3)))
    # 17 条前向边（黑色）和 4 条反向箭头（红色）。
    arrows = parts(fig, "dlzh-arrow")
    red = [a for a in arrows if matplotlib.colors.to_hex(a.get_edgecolor()) == "#cc0000"]
    assert len(arrows) - len(red) == 17 and len(red) == 4


@pytest.mark.parametrize(
    "name", ["lenet", "alexnet", "inception_block", "dense_block", "mlp_computational_graph"]
)
def test_drawing_does_not_consume_the_pages_random_numbers(name):
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    getattr(diagrams, name)()
    assert torch.equal(torch.rand(3), expected)


def test_rnn_unrolled_has_one_column_per_time_step_and_real_shapes():
    fig = diagrams.rnn_unrolled(num_steps=3, batch_size=2, num_inputs=28, num_hiddens=32)
    # H_0 加上每个时间步的 X_t、H_t、O_t。
    assert len(parts(fig, "dlzh-box")) == 1 + 3 * 3
    # 每个时间步三条箭头：X_t→H_t、H_t→O_t、H_{t-1}→H_t（蓝色）。
    arrows = parts(fig, "dlzh-arrow")
    blue = [a for a in arrows if matplotlib.colors.to_hex(a.get_edgecolor()) == "#3d85c6"]
    assert len(arrows) == 9 and len(blue) == 3
    labels = texts(fig)
    assert "$\\mathbf{H}_{3}$" in labels and "$\\mathbf{H}_{4}$" not in labels
    # 形状来自前向计算：隐状态 n×h，输入和输出 n×词表大小。
    assert labels.count("2×32") == 1 + 3 and labels.count("2×28") == 2 * 3
    wider = texts(diagrams.rnn_unrolled(num_steps=4, batch_size=5, num_hiddens=7))
    assert wider.count("5×7") == 1 + 4 and "$\\mathbf{O}_{4}$" in wider


def test_rnn_unrolled_does_not_consume_the_pages_random_numbers():
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    diagrams.rnn_unrolled()
    assert torch.equal(torch.rand(3), expected)
