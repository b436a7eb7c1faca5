"""现代循环神经网络的示意图：GRU 与 LSTM 单元的门、深度与双向循环网络的堆叠。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
图中的形状和参数个数不是手写的：由一个真实的 :class:`dlzh.models.rnn.RecurrentScratch`
或 ``nn.GRU`` 的一次前向计算得到，模型一改，图随之改变。

单元图采用“总线”画法：上方一条横线是上一步的隐状态 :math:`H_{t-1}`，下方一条是输入
:math:`X_t`，各个门从这两条线取输入（竖直箭头），于是不需要斜穿全图的连线。
"""

from __future__ import annotations

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from dlzh.plot.diagrams.basic import EDGE, _arrow, _box, _canvas, _circle, _keeps_rng

__all__ = ["bidirectional_rnn", "deep_rnn", "gru_cell", "lstm_cell"]

GATE_COLOR = "#38761d"  # 门的输出（控制信号）用绿色，与数据流区分
STATE_COLOR = "#3d85c6"  # 沿时间传递的隐状态用蓝色（与 rnn_unrolled 一致）


def _line(ax: Axes, xs, ys, color: str = EDGE, lw: float = 1.2) -> None:
    ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="butt", zorder=1)


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape)


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@_keeps_rng
def gru_cell(batch_size: int = 2, num_inputs: int = 28, num_hiddens: int = 4) -> Figure:
    """门控循环单元的一步：重置门、更新门、候选隐状态，以及它们怎样合成 :math:`H_t`。

    重置门按 PyTorch 的写法乘在 :math:`W_{hh}H_{t-1}+b` 上（见 :mod:`dlzh.models.rnn`）。
    门的形状来自 :func:`dlzh.models.rnn.gru_step` 用一个真实单元的权重算出的一步，
    参数个数来自同一个单元。
    """
    from dlzh.models.rnn import RecurrentScratch

    cell = RecurrentScratch("gru", num_inputs, num_hiddens)
    x = torch.zeros(batch_size, num_inputs)  # (B, d)
    h = torch.zeros(batch_size, num_hiddens)  # (B, h)
    with torch.no_grad():
        xr, xz, xn = (x @ cell.weight_ih_l0.T + cell.bias_ih_l0).chunk(3, dim=-1)
        hr, hz, hn = (h @ cell.weight_hh_l0.T + cell.bias_hh_l0).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)  # (B, h)
        n = torch.tanh(xn + r * hn)  # (B, h)
        h_new = (1 - z) * n + z * h  # (B, h)
    shapes = {"r": r, "z": z, "n": n, "h": h_new}

    fig, ax = _canvas((-1.0, 15.0), (-1.5, 6.0))
    top, bottom, mid = 5.0, 0.0, 2.5
    xz_, xr_, xn_, xc = 2.6, 5.4, 8.4, 11.6  # 更新门、重置门、候选隐状态、合成
    _box(ax, 0.0, top, "$H_{t-1}$", kind="input", w=1.3, h=0.7, fontsize=11)
    _box(ax, 0.0, bottom, "$X_t$", kind="input", w=1.3, h=0.7, fontsize=11)
    _line(ax, [0.65, xc], [top, top], color=STATE_COLOR)
    _line(ax, [0.65, xn_], [bottom, bottom])
    gates = [
        (xz_, "更新门 $Z_t$\nσ", "z", "act"),
        (xr_, "重置门 $R_t$\nσ", "r", "act"),
        (xn_, "候选隐状态 $\\tilde{H}_t$\ntanh", "n", "fc"),
    ]
    for gx, text, key, kind in gates:
        _box(ax, gx, mid, text, kind=kind, w=2.2, h=0.9, fontsize=9.5)
        ax.text(gx + 1.15, mid - 0.6, _shape(shapes[key]), fontsize=8, color="#555555")
        _arrow(ax, (gx, bottom), (gx, mid - 0.45))  # 来自 X_t
        if key != "n":
            _arrow(ax, (gx, top), (gx, mid + 0.45), color=STATE_COLOR)  # 来自 H_{t-1}
    # 候选隐状态只看到被重置门“打了折扣”的旧状态：R_t ⊙ (W_hh H_{t-1} + b)。
    _circle(ax, xn_, 3.85, "⊙", r=0.3)
    _arrow(ax, (xn_, top), (xn_, 4.15), color=STATE_COLOR)
    _arrow(ax, (xn_, 3.55), (xn_, mid + 0.45))
    _arrow(ax, (xr_ + 1.1, mid + 0.3), (xn_ - 0.3, 3.8), color=GATE_COLOR)
    # 更新门的输出从下方绕到合成处。
    _line(ax, [xz_ + 0.6, xz_ + 0.6, xc], [mid - 0.45, 1.25, 1.25], color=GATE_COLOR)
    _box(
        ax,
        xc,
        mid,
        "$H_t = Z_t \\odot H_{t-1}$\n$+ (1 - Z_t) \\odot \\tilde{H}_t$",
        kind="op",
        w=2.9,
        h=1.0,
        fontsize=9.5,
    )
    _arrow(ax, (xc, 1.25), (xc, mid - 0.5), color=GATE_COLOR)
    _arrow(ax, (xc, top), (xc, mid + 0.5), color=STATE_COLOR)
    _arrow(ax, (xn_ + 1.1, mid), (xc - 1.45, mid))
    _box(ax, 14.2, mid, "$H_t$", kind="input", w=1.2, h=0.7, fontsize=11)
    _arrow(ax, (xc + 1.45, mid), (13.6, mid), color=STATE_COLOR)
    ax.text(14.2, mid - 0.6, _shape(shapes["h"]), ha="center", fontsize=8, color="#555555")
    d, hh = num_inputs, num_hiddens
    ax.text(
        7.0,
        -1.05,
        f"蓝线：隐状态；绿线：门（取值在 0 到 1 之间）；形状为 批量×隐藏单元数。"
        f"\n参数：3×(d·h + h·h + 2h) = 3×({d}·{hh} + {hh}·{hh} + 2·{hh}) = "
        f"{_num_params(cell)}（d={d} 个输入，h={hh} 个隐藏单元）",
        ha="center",
        va="center",
        fontsize=9,
    )
    return fig


@_keeps_rng
def lstm_cell(batch_size: int = 2, num_inputs: int = 28, num_hiddens: int = 4) -> Figure:
    """长短期记忆网络的一步：遗忘门、输入门、候选记忆元、输出门和记忆元 :math:`C_t`。

    最上方的横线是记忆元：它只经过一次逐元素乘法（遗忘）和一次加法（写入），这正是
    梯度能沿它传得很远的原因。形状和参数个数来自一个真实单元的一步计算。
    """
    from dlzh.models.rnn import RecurrentScratch, lstm_step

    cell = RecurrentScratch("lstm", num_inputs, num_hiddens)
    x = torch.zeros(batch_size, num_inputs)  # (B, d)
    h = torch.zeros(batch_size, num_hiddens)  # (B, h)
    with torch.no_grad():
        x_proj = x @ cell.weight_ih_l0.T + cell.bias_ih_l0  # (B, 4h)
        h_new, c_new = lstm_step(x_proj, (h, h.clone()), cell.weight_hh_l0, cell.bias_hh_l0)

    fig, ax = _canvas((-1.0, 15.0), (-1.5, 7.2))
    mem, top, bottom, mid = 6.4, 4.9, 0.0, 2.5
    xf, xi, xg, xo, xt = 2.6, 5.0, 7.4, 9.8, 12.0  # 遗忘门、输入门、候选记忆元、输出门、读出
    _box(ax, 0.0, mem, "$C_{t-1}$", kind="input", w=1.3, h=0.7, fontsize=11)
    _box(ax, 0.0, top, "$H_{t-1}$", kind="input", w=1.3, h=0.7, fontsize=11)
    _box(ax, 0.0, bottom, "$X_t$", kind="input", w=1.3, h=0.7, fontsize=11)
    _line(ax, [0.65, xo], [top, top], color=STATE_COLOR)
    _line(ax, [0.65, xo], [bottom, bottom])
    gates = [
        (xf, "遗忘门 $F_t$\nσ", "act"),
        (xi, "输入门 $I_t$\nσ", "act"),
        (xg, "候选记忆元 $\\tilde{C}_t$\ntanh", "fc"),
        (xo, "输出门 $O_t$\nσ", "act"),
    ]
    for gx, text, kind in gates:
        _box(ax, gx, mid, text, kind=kind, w=2.1, h=0.9, fontsize=9.5)
        _arrow(ax, (gx, bottom), (gx, mid - 0.45))
        _arrow(ax, (gx, top), (gx, mid + 0.45), color=STATE_COLOR)
    # 记忆元这条线：C_{t-1} -> ⊙F_t -> +(I_t ⊙ C̃_t) -> C_t
    _circle(ax, xf + 0.9, mem, "⊙", r=0.3)
    _circle(ax, (xi + xg) / 2, mem, "+", r=0.3)
    _arrow(ax, (0.65, mem), (xf + 0.6, mem), color="#990000", lw=1.8)
    _arrow(ax, (xf + 1.2, mem), ((xi + xg) / 2 - 0.3, mem), color="#990000", lw=1.8)
    _line(ax, [xf + 0.9, xf + 0.9], [mid + 0.45, 4.4], color=GATE_COLOR)
    _line(ax, [xf + 0.9, xf + 0.9], [5.4, mem - 0.3], color=GATE_COLOR)
    _arrow(ax, (xf + 0.9, 5.9), (xf + 0.9, mem - 0.3), color=GATE_COLOR)
    ax.plot([xf + 0.9, xf + 0.9], [4.4, 5.4], color=GATE_COLOR, lw=1.2, ls=":", zorder=1)
    _circle(ax, (xi + xg) / 2, 3.75, "⊙", r=0.3)
    _arrow(ax, (xi + 0.5, mid + 0.45), ((xi + xg) / 2 - 0.25, 3.6), color=GATE_COLOR)
    _arrow(ax, (xg - 0.5, mid + 0.45), ((xi + xg) / 2 + 0.25, 3.6))
    _line(ax, [(xi + xg) / 2] * 2, [4.05, 4.6])
    _arrow(ax, ((xi + xg) / 2, 5.2), ((xi + xg) / 2, mem - 0.3))
    ax.plot([(xi + xg) / 2] * 2, [4.6, 5.2], color=EDGE, lw=1.2, ls=":", zorder=1)
    _box(ax, 14.2, mem, "$C_t$", kind="input", w=1.2, h=0.7, fontsize=11)
    _arrow(ax, ((xi + xg) / 2 + 0.3, mem), (13.6, mem), color="#990000", lw=1.8)
    ax.text(14.2, mem + 0.45, _shape(c_new), ha="center", fontsize=8, color="#555555")
    # 读出：H_t = O_t ⊙ tanh(C_t)
    _circle(ax, xt, 4.1, "tanh", r=0.42, fontsize=8.5)
    _arrow(ax, (xt, mem), (xt, 4.52))
    _circle(ax, xt, mid, "⊙", r=0.3)
    _arrow(ax, (xt, 3.68), (xt, mid + 0.3))
    _arrow(ax, (xo + 1.05, mid), (xt - 0.3, mid), color=GATE_COLOR)
    _box(ax, 14.2, mid, "$H_t$", kind="input", w=1.2, h=0.7, fontsize=11)
    _arrow(ax, (xt + 0.3, mid), (13.6, mid), color=STATE_COLOR)
    ax.text(14.2, mid - 0.6, _shape(h_new), ha="center", fontsize=8, color="#555555")
    d, hh = num_inputs, num_hiddens
    ax.text(
        7.0,
        -1.05,
        "红线：记忆元；蓝线：隐状态；绿线：门（取值在 0 到 1 之间）；形状为 批量×隐藏单元数。"
        f"\n参数：4×(d·h + h·h + 2h) = 4×({d}·{hh} + {hh}·{hh} + 2·{hh}) = "
        f"{_num_params(cell)}（d={d} 个输入，h={hh} 个隐藏单元）",
        ha="center",
        va="center",
        fontsize=9,
    )
    return fig


@_keeps_rng
def deep_rnn(
    num_layers: int = 2,
    num_steps: int = 3,
    batch_size: int = 2,
    num_inputs: int = 28,
    num_hiddens: int = 32,
) -> Figure:
    """深度循环神经网络：``num_layers`` 个循环层叠在一起，按时间展开 ``num_steps`` 步。

    第 l 层在时间步 t 的隐状态 :math:`H_t^{(l)}` 同时来自左边（同一层的上一个时间步）和
    下边（下一层同一时间步的输出）。层数和形状取自一个真实 ``nn.GRU(num_layers=...)``
    的前向计算：最终隐状态的第一维就是层数。
    """
    rnn = nn.GRU(num_inputs, num_hiddens, num_layers=num_layers)
    with torch.no_grad():
        outputs, h_n = rnn(torch.zeros(num_steps, batch_size, num_inputs))  # (T, B, h)
    layers = h_n.shape[0]  # (层数, B, h)

    gap, row = 3.0, 1.6
    right = gap * num_steps + 1.8
    top = row * (layers + 1)
    fig, ax = _canvas((-2.2, right), (-1.5, top + 0.8))
    for t in range(1, num_steps + 1):
        x = gap * t
        _box(ax, x, 0.0, f"$X_{t}$", kind="input", w=1.3, h=0.6, fontsize=10.5)
        for layer in range(1, layers + 1):
            y = row * layer
            _box(ax, x, y, f"$H_{t}^{{({layer})}}$", kind="fc", w=1.3, h=0.6, fontsize=10.5)
            _arrow(ax, (x, y - row + 0.3), (x, y - 0.3))
            _arrow(ax, (x - gap + 0.65, y), (x - 0.65, y), color=STATE_COLOR, lw=1.5)
        _box(ax, x, top, f"$O_{t}$", kind="act", w=1.3, h=0.6, fontsize=10.5)
        _arrow(ax, (x, top - row + 0.3), (x, top - 0.3))
    for layer in range(1, layers + 1):
        _box(ax, 0.0, row * layer, f"$H_0^{{({layer})}}$", kind="input", w=1.3, h=0.6)
        ax.text(-0.75, row * layer, f"第 {layer} 层", ha="right", va="center", fontsize=9)
    ax.text(
        (right - 2.2) / 2,
        -1.0,
        f"{layers} 个循环层：nn.GRU(num_layers={num_layers}) 的最终隐状态形状 "
        f"{_shape(h_n)}（层数×批量×隐藏单元数），"
        f"\n输出 {_shape(outputs)}（时间步×批量×隐藏单元数，只取最后一层）",
        ha="center",
        va="center",
        fontsize=9,
    )
    return fig


@_keeps_rng
def bidirectional_rnn(
    num_steps: int = 3, batch_size: int = 2, num_inputs: int = 28, num_hiddens: int = 32
) -> Figure:
    """双向循环神经网络：前向层从左到右、反向层从右到左，输出层看到两者的拼接。

    时间步 t 的输出依赖反向隐状态，而反向隐状态读过 t 之后的全部输入。
    拼接后的形状来自一个真实 ``nn.GRU(bidirectional=True)`` 的前向计算。
    """
    rnn = nn.GRU(num_inputs, num_hiddens, bidirectional=True)
    with torch.no_grad():
        outputs, h_n = rnn(torch.zeros(num_steps, batch_size, num_inputs))  # (T, B, 2h)
    gap = 3.0
    right = gap * num_steps + 3.0
    fig, ax = _canvas((0.0, right), (-1.5, 7.0))
    ys = {"x": 0.0, "fwd": 1.7, "bwd": 3.3, "cat": 4.9, "o": 6.3}
    backward_color = "#e69138"
    for t in range(1, num_steps + 1):
        x = gap * t
        _box(ax, x, ys["x"], f"$X_{t}$", kind="input", w=1.3, h=0.6, fontsize=10.5)
        _box(ax, x, ys["fwd"], f"$\\overrightarrow{{H}}_{t}$", kind="fc", w=1.3, h=0.6)
        _box(ax, x, ys["bwd"], f"$\\overleftarrow{{H}}_{t}$", kind="pool", w=1.3, h=0.6)
        _box(ax, x, ys["cat"], "拼接", kind="op", w=1.3, h=0.6, fontsize=9.5)
        _box(ax, x, ys["o"], f"$O_{t}$", kind="act", w=1.3, h=0.6, fontsize=10.5)
        _arrow(ax, (x - 0.25, ys["x"] + 0.3), (x - 0.25, ys["fwd"] - 0.3))
        # X_t 绕过前向层送进反向层（画在方框右侧）
        _line(ax, [x + 0.45, x + 0.9, x + 0.9], [ys["x"] + 0.3, ys["x"] + 0.3, ys["bwd"] - 0.45])
        _arrow(ax, (x + 0.9, ys["bwd"] - 0.45), (x + 0.45, ys["bwd"] - 0.3))
        # 两个方向的隐状态都送去拼接
        _line(ax, [x - 0.9, x - 0.9], [ys["fwd"] + 0.3, ys["cat"] - 0.45])
        _line(ax, [x - 0.45, x - 0.9], [ys["fwd"] + 0.3, ys["fwd"] + 0.3])
        _arrow(ax, (x - 0.9, ys["cat"] - 0.45), (x - 0.45, ys["cat"] - 0.3))
        _arrow(ax, (x + 0.25, ys["bwd"] + 0.3), (x + 0.25, ys["cat"] - 0.3))
        _arrow(ax, (x, ys["cat"] + 0.3), (x, ys["o"] - 0.3))
        if t > 1:
            _arrow(ax, (x - gap + 0.65, ys["fwd"]), (x - 0.65, ys["fwd"]), color=STATE_COLOR)
            _arrow(ax, (x - 0.65, ys["bwd"]), (x - gap + 0.65, ys["bwd"]), color=backward_color)
    ax.text(
        gap - 1.1, ys["fwd"], "前向层 →", ha="right", va="center", fontsize=9, color=STATE_COLOR
    )
    ax.text(
        gap * num_steps + 1.1, ys["bwd"], "← 反向层", ha="left", va="center", fontsize=9,
        color=backward_color,
    )  # fmt: skip
    h = num_hiddens
    ax.text(
        right / 2,
        -1.0,
        f"nn.GRU(bidirectional=True)：每个方向 {h} 个隐藏单元，拼接后的输出 "
        f"{_shape(outputs)}（时间步×批量×2·{h}），"
        f"\n最终隐状态 {_shape(h_n)}（方向数×批量×{h}）",
        ha="center",
        va="center",
        fontsize=9,
    )
    return fig
