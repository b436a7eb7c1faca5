"""计算机视觉部分的示意图：转置卷积的散布、FCN 的结构与形状。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from dlzh.plot import diagrams


def texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_transposed_conv_scatter_shows_each_contribution_and_the_output():
    fig = diagrams.transposed_conv_scatter()
    # 输入 2×2 + 卷积核 2×2 + 4 个贡献各 3×3 + 输出 3×3
    assert len(parts(fig, "dlzh-cell")) == 4 + 4 + 4 * 9 + 9
    text = texts(fig)
    assert "输入[1,1]=3 的贡献" in text and "卷积核" in text and "输出为 3×3" in text
    cell_values = [t.get_text() for t in fig.axes[0].texts]
    for value in ("12", "9", "6", "4"):  # d2l 的输出 [[0,0,1],[0,4,6],[4,12,9]]
        assert value in cell_values
    highlighted = [p for p in parts(fig, "dlzh-cell") if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert len(highlighted) == 4 * 4  # 每个贡献标出一个 2×2 窗口


def test_transposed_conv_scatter_with_stride_two():
    fig = diagrams.transposed_conv_scatter(stride=2)
    assert len(parts(fig, "dlzh-cell")) == 4 + 4 + 4 * 16 + 16
    assert "输出为 4×4" in texts(fig)


def test_fcn_shapes_come_from_a_forward_pass():
    fig = diagrams.fcn()
    assert len(parts(fig, "dlzh-box")) == 4 and len(parts(fig, "dlzh-arrow")) == 3
    text = texts(fig)
    for shape in ("3×320×480", "512×10×15", "21×10×15", "21×320×480"):
        assert shape in text
    assert "步幅 32" in text and "核 64×64" in text
    small = texts(diagrams.fcn(input_shape=(3, 64, 96), num_classes=5))
    assert "512×2×3" in small and "5×64×96" in small
