"""注意力部分的示意图：部件数、中文标签，以及图里的数与真实计算一致。"""

import matplotlib.pyplot as plt
import pytest
import torch

from dlzh.models.attention import nadaraya_watson
from dlzh.plot import diagrams


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_attention_pooling_shows_computed_weights():
    keys = (0.5, 1.6, 2.3, 3.8)
    fig = diagrams.attention_pooling(2.0, keys)
    # 查询、softmax、输出各 1 个方框，每个键一行 4 个（键、评分、权重、值）
    assert len(parts(fig, "dlzh-box")) == 3 + 4 * len(keys)
    assert len(parts(fig, "dlzh-arrow")) == 5 * len(keys)
    text = "\n".join(texts(fig))
    assert {"键", "值", "注意力权重"} <= set(texts(fig))
    k = torch.tensor(keys, dtype=torch.float64)
    v = 2 * torch.sin(k) + k**0.8
    out, w = nadaraya_watson(k, v, torch.tensor([2.0], dtype=torch.float64))
    for i in range(len(keys)):
        assert f"α{i + 1} = {w[0, i].item():.2f}" in text
    assert f"= {out.item():.2f}" in text
    assert "权重和为 1.00" in text


@pytest.mark.parametrize(("embed_dim", "num_heads", "drawn"), [(16, 4, 4), (100, 5, 5), (64, 8, 3)])
def test_multihead_attention_counts_heads_from_the_model(embed_dim, num_heads, drawn):
    fig = diagrams.multihead_attention(embed_dim, num_heads, seq_len=6)
    d = embed_dim // num_heads
    # 每个画出的头 2 个方框；再加输入、拼接、输出层 3 个
    assert len(parts(fig, "dlzh-box")) == 2 * drawn + 3
    text = "\n".join(texts(fig))
    assert f"头 1：全连接层 {embed_dim}→{d}" in text
    assert f"头 {num_heads}：全连接层" in text
    assert f"{num_heads}×{d}={embed_dim}" in text
    assert f"各头的注意力权重 (1, {num_heads}, 6, 6)" in text
    assert f"输出 (1, 6, {embed_dim})" in text
    if num_heads > 5:
        assert "⋮" in texts(fig)


def test_attention_patterns_connection_counts():
    n, k = 6, 3
    fig = diagrams.attention_patterns(n, k)
    assert len(parts(fig, "dlzh-box")) == 3 * 2 * n  # 每个面板 n 个输入、n 个输出
    cnn = sum(min(i + 1, n - 1) - max(i - 1, 0) + 1 for i in range(n))  # 边界上少一个邻居
    rnn = n + (n - 1)
    assert len(parts(fig, "dlzh-arrow")) == cnn + rnn + n * n
    t = texts(fig)
    assert {"卷积神经网络", "循环神经网络", "自注意力"} <= set(t)
    assert {f"{cnn} 条连接", f"{rnn} 条连接", f"{n * n} 条连接"} <= set(t)
