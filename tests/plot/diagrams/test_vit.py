"""ViT 示意图：部件个数、中文标签，以及图上的数来自真实模型的配置。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlzh.models.vit import create_vit
from dlzh.plot import diagrams


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts) + "\n".join(
        ax.get_title() for ax in fig.axes
    )


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_vit_patches_grid_and_sequence_follow_patch_size():
    image = torch.rand(1, 28, 28)
    fig = diagrams.vit_patches(image, 7, max_shown=5)
    assert len(parts(fig, "dlzh-cell")) == 16  # 4×4 个块
    t = texts(fig)
    assert "4×4 = 16 块" in t and "序列长度 1 + 16 = 17" in t and "49 维" in t
    assert "类别\n词元" in t and "…" in t
    # 右侧的小图就是对应块的像素：第 2 块（第 0 行第 1 列）与原图切片一致。
    shown = [ax.images[0].get_array() for ax in fig.axes[2:]]
    assert len(shown) == 5
    np.testing.assert_allclose(shown[1], image[0, 0:7, 7:14].numpy())
    np.testing.assert_allclose(shown[-1], image[0, 21:28, 21:28].numpy())  # 最后一块


def test_vit_patches_rgb_and_bad_sizes():
    fig = diagrams.vit_patches(torch.rand(3, 32, 32), 16)
    assert len(parts(fig, "dlzh-cell")) == 4
    assert "3×16×16 = 768 维" in texts(fig) and "…" not in texts(fig)
    with pytest.raises(ValueError, match="整除"):
        diagrams.vit_patches(torch.rand(1, 28, 28), 8)
    with pytest.raises(ValueError, match="C, H, W"):
        diagrams.vit_patches(torch.rand(28, 28), 7)


def test_vit_architecture_numbers_come_from_the_model():
    fig = diagrams.vit_architecture()  # d2l 的配置：96×96，块 16 -> 36 块，512 维
    t = texts(fig)
    for label in ("16×16 卷积，步幅 16", "36×512", "37×512", "1 + 36 个词元", "8 个头",
                  "512 → 2048 → 512", "× 2", "10 个类别", "层归一化", "位置嵌入", "类别词元"):  # fmt: skip
        assert label in t, label
    assert len(parts(fig, "dlzh-box")) == 2 + 12 + 1 + 4 + 2 + 2  # 方框、词元、虚线框、圆、顶部
    assert len(parts(fig, "dlzh-arrow")) == 12

    small = create_vit(32, 8, 3, 2, 64, 128, num_classes=7, in_channels=3)
    t = texts(diagrams.vit_architecture(small))
    assert "8×8 卷积，步幅 8" in t and "16×64" in t and "17×64" in t and "× 3" in t
    assert "7 个类别" in t and "2 个头" in t and "64 → 128 → 64" in t


def test_vit_architecture_keeps_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    diagrams.vit_architecture()
    assert torch.equal(torch.rand(3), expected)
