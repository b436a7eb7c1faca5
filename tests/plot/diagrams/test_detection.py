"""目标检测示意图：SSD 图上的形状与锚框数来自 TinySSD 的前向计算；R-CNN 系列四列。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from dlzh.models.ssd import TinySSD
from dlzh.plot import diagrams


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("size", [256, 64])
def test_ssd_heads_show_computed_shapes_and_counts(size):
    fig = diagrams.ssd_multiscale_heads(size)
    assert len(parts(fig, "dlzh-box")) == 11 and len(parts(fig, "dlzh-arrow")) == 10
    with torch.no_grad():
        anchors, _, _ = TinySSD()(torch.zeros(1, 3, size, size))
    t = texts(fig)
    assert f"合计 {anchors.shape[1]} 个锚框" in t and "类别预测 + 边界框预测" in t
    if size == 256:
        assert "64×32×32" in t and "32×32 像素 × 4 个锚框 = 4096" in t and "5444" in t


def test_ssd_diagram_keeps_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    diagrams.ssd_multiscale_heads(64)
    assert torch.equal(torch.rand(1), expected)


def test_rcnn_family_four_columns():
    fig = diagrams.rcnn_family()
    assert len(parts(fig, "dlzh-box")) == 20 and len(parts(fig, "dlzh-arrow")) == 16
    t = texts(fig)
    for name in ["R-CNN", "Fast R-CNN", "Faster R-CNN", "Mask R-CNN"]:
        assert f"\n{name}\n" in f"\n{t}\n"
    assert (
        "选择性搜索" in t
        and "兴趣区域汇聚层" in t
        and "区域提议网络" in t
        and "兴趣区域对齐层" in t
    )
    assert "掩码" in t
