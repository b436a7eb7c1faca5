"""dlzh.plot.diagrams.federated：一轮 FedAvg 的图，箭头数和权重由输入算出。"""

from __future__ import annotations

import matplotlib
import pytest

from dlzh.plot import diagrams


def _parts(fig, gid):
    return [p for p in fig.axes[0].patches if p.get_gid() == gid]


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_fedavg_round_sends_to_and_receives_from_each_chosen_client():
    fig = diagrams.fedavg_round(sizes=[100, 300, 200, 400], chosen=[1, 3], epochs=2, batch_size=4)
    assert len(_parts(fig, "dlzh-box")) == 1 + 4  # 服务器 + 每个客户端
    colors = [matplotlib.colors.to_hex(a.get_edgecolor()) for a in _parts(fig, "dlzh-arrow")]
    assert colors.count("#3d85c6") == 2 and colors.count("#e69138") == 2
    labels = _texts(fig)
    # 权重 n_k / n 由样本数算出：300/700 与 400/700。
    assert "权重 0.429" in labels and "权重 0.571" in labels
    assert any("300+400=700" in t for t in labels)
    assert labels.count("本轮不参与") == 2
    assert any("批量 4 训练 2 个" in t for t in labels)
    matplotlib.pyplot.close(fig)


def test_fedavg_round_rejects_a_client_that_does_not_exist():
    with pytest.raises(ValueError, match="chosen"):
        diagrams.fedavg_round(sizes=[1, 2], chosen=[2])
