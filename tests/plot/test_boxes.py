"""在图像上画框：矩形的位置和大小、标签文字、颜色循环。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlzh.plot import boxes


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_bbox_to_rect_geometry():
    rect = boxes.bbox_to_rect(torch.tensor([10.0, 20.0, 50.0, 80.0]), "r")
    assert rect.get_xy() == (10.0, 20.0) and rect.get_width() == 40 and rect.get_height() == 60
    assert rect.get_gid() == "dlzh-bbox" and not rect.get_fill()


def test_show_image_and_bboxes():
    _, ax = boxes.show_image(torch.rand(3, 40, 80))
    assert ax.images[0].get_array().shape == (40, 80, 3)
    rects = boxes.show_bboxes(
        ax, [[0, 0, 10, 10], [5, 5, 20, 30], [1, 2, 3, 4]], ["狗", "猫"], ["r"]
    )
    assert len([p for p in ax.patches if p.get_gid() == "dlzh-bbox"]) == 3
    assert [t.get_text() for t in ax.texts] == ["狗", "猫"]
    assert all(np.allclose(r.get_edgecolor()[:3], (1, 0, 0)) for r in rects)
    fig2, _ = boxes.show_image(np.zeros((30, 20, 3), dtype=np.uint8))
    w, h = fig2.get_size_inches()
    assert h > w  # 竖的图像画成竖的
