"""dlzh.plot.attention.show_heatmaps：形状约定、共用的颜色范围、标签。"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlzh.plot import show_heatmaps


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(fig):
    return [im for ax in fig.axes for im in ax.get_images()]


@pytest.mark.parametrize(("shape", "panels"), [((5, 7), 1), ((3, 5, 7), 3), ((2, 3, 5, 7), 6)])
def test_shapes_give_a_grid_of_panels(shape, panels):
    weights = torch.rand(shape).softmax(-1)
    fig = show_heatmaps(weights)
    images = _images(fig)
    assert len(images) == panels
    # 每个子图画的就是对应的矩阵（不转置、不归一化）
    flat = weights.reshape(-1, 5, 7).double().numpy()
    for image, matrix in zip(images, flat, strict=True):
        np.testing.assert_allclose(image.get_array(), matrix)


def test_shared_color_range_and_labels():
    a = torch.eye(4) * 0.5
    b = torch.eye(4)
    fig = show_heatmaps(
        torch.stack([a, b]),
        titles=["甲", "乙"],
        xlabel="键",
        ylabel="查询",
        xticklabels=list("abcd"),
        yticklabels=list("wxyz"),
    )
    images = _images(fig)
    # 颜色范围共用：0 到所有矩阵的最大值，所以 a 的对角线比 b 的浅
    assert all(im.get_clim() == (0.0, 1.0) for im in images)
    titles = [ax.get_title() for ax in fig.axes]
    assert "甲" in titles and "乙" in titles
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == list("abcd")
    assert fig.axes[0].get_ylabel() == "查询"


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        show_heatmaps(torch.rand(5))
    with pytest.raises(ValueError, match="title"):
        show_heatmaps(torch.rand(2, 3, 3), titles=["只有一个"])
