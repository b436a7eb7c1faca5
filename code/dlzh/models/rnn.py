"""循环神经网络：RNN、GRU、LSTM 从零实现，以及字符级语言模型。

:class:`RecurrentScratch` 用矩阵乘法和逐时间步的 Python 循环写出三种循环层，参数的名字、形状和
门的排列顺序都与 ``nn.RNN``/``nn.GRU``/``nn.LSTM`` 相同，所以 ``load_state_dict`` 可以直接互换
权重；测试检查二者的输出在 1e-6 以内一致（多层、双向也一样）。写成一个类而不是三个，是因为
三者只有“一步怎么更新隐状态”不同（见 :func:`rnn_step`、:func:`gru_step`、:func:`lstm_step`）。

PyTorch 的门顺序（权重按行拼接）：GRU 为 (r, z, n)，LSTM 为 (i, f, g, o)。注意 PyTorch 的 GRU
候选状态是 :math:`n = \\tanh(W_{in}x + b_{in} + r \\odot (W_{hn}h + b_{hn}))`，重置门乘在
:math:`W_{hn}h + b_{hn}` 上；d2l 的公式把 r 先乘到 h 上再做矩阵乘法，两者的参数不能互换。
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["RNNLanguageModel", "RecurrentScratch", "gru_step", "lstm_step", "rnn_step"]

Mode = Literal["rnn_tanh", "rnn_relu", "gru", "lstm"]
_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def rnn_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, relu: bool = False) -> Tensor:
    """普通 RNN 的一步：:math:`h_t = \\phi(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})`。

    ``x_proj`` 是已经算好的 :math:`W_{ih}x_t + b_{ih}`（所有时间步可以一次算完）。
    """
    pre = x_proj + h @ w_hh.T + b_hh  # (B, H)
    return torch.relu(pre) if relu else torch.tanh(pre)


def gru_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """GRU 的一步：重置门 r 决定候选状态看多少旧状态，更新门 z 决定保留多少旧状态。"""
    xr, xz, xn = x_proj.chunk(3, dim=-1)  # 各 (B, H)
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def lstm_step(
    x_proj: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """LSTM 的一步：输入门、遗忘门、输出门控制记忆元 c 的写入、保留和读出。"""
    h, c = state
    gates = x_proj + h @ w_hh.T + b_hh  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


class RecurrentScratch(nn.Module):
    """从零实现的多层、可双向的 RNN/GRU/LSTM，接口与 ``nn.RNN``/``nn.GRU``/``nn.LSTM`` 相同。

    输入 ``(T, B, 输入维)``（``batch_first=True`` 时 ``(B, T, 输入维)``）；返回
    ``(输出, 最终状态)``，输出是最后一层各时间步的隐状态（双向时两个方向拼接），
    最终状态形状 ``(层数*方向数, B, H)``；LSTM 的状态是 ``(h, c)`` 二元组。
    层与层之间的 ``dropout`` 只在训练模式生效，与 PyTorch 一样不作用于最后一层。
    """

    def __init__(
        self,
        mode: Mode,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        batch_first: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(
                f"未知的循环层 {mode!r}，可选 {sorted(_GATES)}。 / Unknown mode {mode!r}."
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.batch_first, self.dropout = batch_first, dropout
        self.num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                name = f"l{layer}{suffix}"
                self.register_parameter(
                    f"weight_ih_{name}", nn.Parameter(torch.empty(gate_size, in_size))
                )
                self.register_parameter(
                    f"weight_hh_{name}", nn.Parameter(torch.empty(gate_size, hidden_size))
                )
                self.register_parameter(f"bias_ih_{name}", nn.Parameter(torch.empty(gate_size)))
                self.register_parameter(f"bias_hh_{name}", nn.Parameter(torch.empty(gate_size)))
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """与 PyTorch 相同的初始化：所有参数服从 :math:`U(-1/\\sqrt{H}, 1/\\sqrt{H})`。"""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def begin_state(
        self, batch_size: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ):
        """全零的初始状态。"""
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        h = torch.zeros(shape, device=device, dtype=dtype)
        return (h, torch.zeros_like(h)) if self.mode == "lstm" else h

    def _run_direction(self, xs: Tensor, layer: int, suffix: str, h0, reverse: bool):
        """一层、一个方向在整个序列上的计算；返回 ``(T, B, H)`` 的输出和最终状态。"""
        name = f"l{layer}{suffix}"
        w_ih, w_hh = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")
        b_ih, b_hh = getattr(self, f"bias_ih_{name}"), getattr(self, f"bias_hh_{name}")
        x_proj = xs @ w_ih.T + b_ih  # (T, B, gates*H)：输入投影与时间无关，一次算完
        steps = range(xs.shape[0] - 1, -1, -1) if reverse else range(xs.shape[0])
        state, outputs = h0, [None] * xs.shape[0]
        for t in steps:
            if self.mode == "lstm":
                state = lstm_step(x_proj[t], state, w_hh, b_hh)
                outputs[t] = state[0]
            elif self.mode == "gru":
                state = gru_step(x_proj[t], state, w_hh, b_hh)
                outputs[t] = state
            else:
                state = rnn_step(x_proj[t], state, w_hh, b_hh, relu=self.mode == "rnn_relu")
                outputs[t] = state
        return torch.stack(outputs), state  # (T, B, H)

    def forward(self, inputs: Tensor, state=None):
        xs = inputs.transpose(0, 1) if self.batch_first else inputs  # (T, B, D)
        if state is None:
            state = self.begin_state(xs.shape[1], xs.device, xs.dtype)
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(self._suffixes()):
                k = layer * self.num_directions + d
                h0 = (state[0][k], state[1][k]) if self.mode == "lstm" else state[k]
                out, last = self._run_direction(xs, layer, suffix, h0, reverse=d == 1)
                outs.append(out)
                if self.mode == "lstm":
                    finals_h.append(last[0])
                    finals_c.append(last[1])
                else:
                    finals_h.append(last)
            xs = torch.cat(outs, dim=-1)  # (T, B, H*方向数)
            if self.dropout and self.training and layer < self.num_layers - 1:
                xs = F.dropout(xs, self.dropout, training=True)
        output = xs.transpose(0, 1) if self.batch_first else xs
        h_n = torch.stack(finals_h)  # (层数*方向数, B, H)
        return output, ((h_n, torch.stack(finals_c)) if self.mode == "lstm" else h_n)


class RNNLanguageModel(nn.Module):
    """字符（或词）级语言模型：独热输入 -> 循环层 -> 全连接输出层。

    ``rnn`` 可以是 :class:`RecurrentScratch`，也可以是 ``nn.RNN``/``nn.GRU``/``nn.LSTM``
    （``batch_first=False``）。输入 ``(B, T)`` 的词元下标，输出 ``(B, T, 词表大小)`` 的对数几率
    和新的隐状态。双向循环层不能用来预测下一个词元（它“看见”了答案），这里直接拒绝。
    """

    def __init__(self, rnn: nn.Module, vocab_size: int) -> None:
        super().__init__()
        if getattr(rnn, "bidirectional", False):
            raise ValueError(
                "双向循环层在时间步 t 已经读过 t 之后的词元，不能用于预测下一个词元。"
                " / A bidirectional RNN sees future tokens; it cannot be a language model."
            )
        if getattr(rnn, "batch_first", False):
            raise ValueError(
                "RNNLanguageModel 需要 batch_first=False 的循环层。 / Use batch_first=False."
            )
        self.rnn, self.vocab_size = rnn, vocab_size
        self.output = nn.Linear(rnn.hidden_size, vocab_size)

    def begin_state(self, batch_size: int, device: torch.device | None = None):
        """全零的初始隐状态（LSTM 为 ``(h, c)``）。"""
        shape = (self.rnn.num_layers, batch_size, self.rnn.hidden_size)
        h = torch.zeros(shape, device=device)
        is_lstm = isinstance(self.rnn, nn.LSTM) or getattr(self.rnn, "mode", None) == "lstm"
        return (h, torch.zeros_like(h)) if is_lstm else h

    def forward(self, tokens: Tensor, state=None):
        x = F.one_hot(tokens.T.long(), self.vocab_size).float()  # (T, B, V)
        if state is None:
            state = self.begin_state(tokens.shape[0], tokens.device)
        y, state = self.rnn(x, state)  # (T, B, H)
        return self.output(y).transpose(0, 1), state  # (B, T, V)

    @torch.no_grad()
    def predict(self, prefix: str, num_preds: int, vocab, device=None) -> str:
        """给定前缀，逐个生成 ``num_preds`` 个字符（每步取最可能的一个）。

        先用前缀“预热”隐状态（只更新状态、不输出），再把每步的预测作为下一步的输入。
        """
        device = device or next(self.parameters()).device
        was_training = self.training
        self.eval()
        tokens = vocab[list(prefix)]
        state = None
        if len(tokens) > 1:
            _, state = self(torch.tensor([tokens[:-1]], device=device), None)
        outputs = [tokens[-1]]
        generated = []
        for _ in range(num_preds):
            logits, state = self(torch.tensor([[outputs[-1]]], device=device), state)
            nxt = int(logits[0, -1].argmax())
            outputs.append(nxt)
            generated.append(nxt)
        self.train(was_training)
        return prefix + "".join(vocab.to_tokens(generated))
