import math

import matplotlib
import pytest

from dlzh.diffusion import NoiseSchedule
from dlzh.plot import diagrams
from dlzh.plot.diagrams.diffusion import _linear_alpha_bar


def parts(fig, gid):
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_chain_has_four_nodes_and_forward_and_reverse_arrows():
    fig = diagrams.diffusion_chain(num_steps=1000, t=500)
    assert len(parts(fig, "dlzh-box")) == 4
    arrows = parts(fig, "dlzh-arrow")
    blue = [a for a in arrows if matplotlib.colors.to_hex(a.get_edgecolor()) == "#3d85c6"]
    assert len(arrows) == 6 and len(blue) == 3  # 三段前向 q，三段反向 p_θ
    labels = texts(fig)
    assert "$\\mathbf{x}_{t-1}$" in labels and "$\\mathbf{x}_T$" in labels
    assert "$q(\\mathbf{x}_t\\mid\\mathbf{x}_{t-1})$" in labels
    assert any("p_\\theta" in s for s in labels)
    assert "数据" in labels and "纯噪声" in labels and any("T=1000" in s for s in labels)


def test_signal_fractions_come_from_the_schedule():
    schedule = NoiseSchedule.linear(1000)
    labels = texts(diagrams.diffusion_chain(num_steps=1000, t=500))
    for step in (499, 500, 1000):
        expected = math.sqrt(float(schedule.alpha_bars[step - 1]))
        assert f"$\\sqrt{{\\bar\\alpha}}$={expected:.3f}" in labels
        assert _linear_alpha_bar(step, 1000) == pytest.approx(expected**2, rel=1e-5)
    assert "$\\sqrt{\\bar\\alpha}$=1.000" in labels  # x_0 就是数据本身
    short = texts(diagrams.diffusion_chain(num_steps=100, t=50))
    assert any("T=100" in s for s in short)


def test_rejects_a_step_outside_the_chain():
    with pytest.raises(ValueError):
        diagrams.diffusion_chain(num_steps=10, t=10)
