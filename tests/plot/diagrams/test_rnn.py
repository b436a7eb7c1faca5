"""现代循环神经网络的示意图：部件数、中文标签，以及图里的形状和参数个数与真实模型一致。"""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from dlzh.plot import diagrams


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def all_text(fig) -> str:
    return "\n".join(texts(fig))


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_gru_cell_has_both_gates_and_the_parameter_count_of_nn_gru():
    fig = diagrams.gru_cell(batch_size=3, num_inputs=10, num_hiddens=5)
    text = all_text(fig)
    for label in ("更新门", "重置门", "候选隐状态", "$H_{t-1}$", "$X_t$", "$H_t$"):
        assert label in text
    # 7 个方框（两个输入、三个门、合成、输出）加 1 个逐元素乘法的圆圈；12 个箭头。
    assert len(parts(fig, "dlzh-box")) == 8
    assert len(parts(fig, "dlzh-arrow")) == 12
    assert f"= {_num_params(nn.GRU(10, 5))}（" in text  # 参数个数与 nn.GRU 相同：240
    assert texts(fig).count("3×5") == 4  # 三个门和 H_t 的形状 (批量, 隐藏单元数)


def test_lstm_cell_has_three_gates_a_memory_cell_and_the_parameter_count_of_nn_lstm():
    fig = diagrams.lstm_cell(batch_size=3, num_inputs=10, num_hiddens=5)
    text = all_text(fig)
    for label in ("遗忘门", "输入门", "输出门", "候选记忆元", "$C_{t-1}$", "$C_t$", "记忆元"):
        assert label in text
    # 9 个方框 + 5 个圆圈（3 个 ⊙、1 个 +、1 个 tanh）。
    assert len(parts(fig, "dlzh-box")) == 14
    assert f"= {_num_params(nn.LSTM(10, 5))}（" in text  # 320
    assert texts(fig).count("3×5") == 2  # C_t 和 H_t


def test_deep_rnn_draws_one_row_per_layer_of_a_real_gru():
    fig = diagrams.deep_rnn(num_layers=3, num_steps=4, batch_size=2, num_hiddens=8)
    # 每个时间步：X_t、3 层隐状态、O_t；每层一个初始状态。
    assert len(parts(fig, "dlzh-box")) == 4 * (1 + 3 + 1) + 3
    labels = texts(fig)
    assert {"第 1 层", "第 2 层", "第 3 层"} <= set(labels)
    h_n = nn.GRU(28, 8, num_layers=3)(torch.zeros(4, 2, 28))[1]
    assert "×".join(map(str, h_n.shape)) == "3×2×8"
    assert "3×2×8" in all_text(fig) and "4×2×8" in all_text(fig)


def test_bidirectional_rnn_concatenates_both_directions():
    fig = diagrams.bidirectional_rnn(num_steps=4, batch_size=2, num_hiddens=8)
    # 每个时间步：X_t、前向、反向、拼接、O_t。
    assert len(parts(fig, "dlzh-box")) == 4 * 5
    text = all_text(fig)
    assert "前向层" in text and "反向层" in text and texts(fig).count("拼接") == 4
    assert "4×2×16" in text  # 输出：两个方向拼接，2·8 个特征
    assert "2×2×8" in text  # 最终隐状态：(方向数, 批量, 隐藏单元数)


@pytest.mark.parametrize("name", ["gru_cell", "lstm_cell", "deep_rnn", "bidirectional_rnn"])
def test_diagrams_do_not_consume_the_pages_random_numbers(name):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    getattr(diagrams, name)()
    assert torch.equal(torch.rand(3), expected)
