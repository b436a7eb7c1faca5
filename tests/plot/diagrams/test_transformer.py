"""Transformer 示意图：部件个数、中文标签，图上的层数、头数、形状和被掩蔽的格数都来自真实的模型与掩码。"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex

from dlzh.models import causal_mask, padding_mask
from dlzh.plot import diagrams
from dlzh.plot.diagrams.transformer import ALLOWED, MASKED


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def texts(fig) -> str:
    return "\n".join(
        [t.get_text() for ax in fig.axes for t in ax.texts]
        + [t.get_text() for t in fig.texts]
        + [ax.get_title() for ax in fig.axes]
    )


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("layers,heads,d,ffn", [(2, 4, 32, 64), (3, 8, 64, 256)])
def test_stack_reads_layers_heads_and_shapes_from_a_real_model(layers, heads, d, ffn):
    fig = diagrams.transformer_stack(d, heads, layers, ffn, src_len=7, tgt_len=4, vocab_size=50)
    text = texts(fig)
    # 编码器 4 个方框 + 解码器 6 个 + 两个嵌入 + 输出层 + 两个 N× 虚线框
    assert len(parts(fig, "dlzh-box")) == 4 + 6 + 2 + 1 + 2
    assert text.count(f"{layers}×") == 2
    assert text.count(f"（{heads} 头）") == 2
    assert text.count(f"逐位置前馈网络（{d}→{ffn}→{d}）") == 2
    assert text.count("加法和层归一化") == 5
    assert "编码器-解码器注意力" in text and "带掩码的多头自注意力" in text
    assert f"编码器输出 (1, 7, {d})" in text  # 形状来自前向计算
    assert "对数几率 (1, 4, 50)" in text
    assert f"嵌入 ×√{d} + 位置编码" in text
    # 6 条子层之间的主干箭头 + 残差 5 条……至少：每个子层一条残差，外加各处的连线
    assert len(parts(fig, "dlzh-arrow")) >= (4 + 6) + 5


def test_stack_does_not_consume_the_global_random_state():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    diagrams.transformer_stack()
    assert torch.equal(torch.rand(3), expected)


def _cell_colors(ax) -> np.ndarray:
    cells = [p for p in ax.patches if p.get_gid() == "dlzh-cell"]
    return np.array([to_hex(p.get_facecolor()) for p in cells])


@pytest.mark.parametrize("steps,lens", [(5, (5, 3)), (6, (2, 6, 4))])
def test_mask_grids_are_the_real_masks(steps, lens):
    fig = diagrams.transformer_masks(steps, lens)
    causal = causal_mask(steps)
    pad = padding_mask(torch.tensor(lens), steps)
    combined = causal | pad[-1][None, :]
    for ax, mask in zip(fig.axes, (causal, pad, combined), strict=True):
        colors = _cell_colors(ax)
        assert len(colors) == mask.numel()
        expected = np.where(mask.flatten().numpy(), MASKED, ALLOWED)
        assert (colors == expected).all()
    text = texts(fig)
    assert f"被掩蔽 {int(causal.sum())}/{steps * steps} 格" in text
    assert f"被掩蔽 {int(pad.sum())}/{pad.numel()} 格" in text
    assert f"被掩蔽 {int(combined.sum())}/{steps * steps} 格" in text
    assert "因果掩码" in text and "填充掩码" in text and "不许注意" in text


def test_norm_placement_shows_both_orders():
    fig = diagrams.transformer_norm_placement()
    left, right = fig.axes
    assert "后归一化" in left.get_title() and "LN(x + F(x))" in left.get_title()
    assert "前归一化" in right.get_title() and "x + F(LN(x))" in right.get_title()

    def order(ax):  # 自下而上的方框文字
        boxes = sorted(
            (t for t in ax.texts if t.get_text() in {"输入 x", "子层 F", "层归一化", "+", "输出"}),
            key=lambda t: t.get_position()[1],
        )
        return [t.get_text() for t in boxes]

    assert order(left) == ["输入 x", "子层 F", "+", "层归一化", "输出"]
    assert order(right) == ["输入 x", "层归一化", "子层 F", "+", "输出"]
