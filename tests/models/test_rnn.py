"""从零实现的 RNN/GRU/LSTM 与 nn.RNN/nn.GRU/nn.LSTM 在相同权重下一致（多层、双向），语言模型包装。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.models.rnn import RecurrentScratch, RNNLanguageModel
from dlzh.text import Vocab

CASES = [
    ("rnn_tanh", nn.RNN, {}),
    ("rnn_relu", nn.RNN, {"nonlinearity": "relu"}),
    ("gru", nn.GRU, {}),
    ("lstm", nn.LSTM, {}),
]


def _max_diff(a, b) -> float:
    if isinstance(a, tuple):
        return max(_max_diff(x, y) for x, y in zip(a, b, strict=True))
    return float((a - b).detach().abs().max())


@pytest.mark.parametrize(("mode", "cls", "kwargs"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (3, False), (2, True)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_torch_given_the_same_weights(
    mode, cls, kwargs, num_layers, bidirectional, batch_first
):
    torch.manual_seed(0)
    ref = cls(5, 8, num_layers, bidirectional=bidirectional, batch_first=batch_first, **kwargs)
    ours = RecurrentScratch(
        mode, 5, 8, num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    # 参数的名字和形状与 PyTorch 相同：state_dict 可以直接互换（strict=True）
    ours.load_state_dict(ref.state_dict())
    x = torch.randn((4, 6, 5) if batch_first else (6, 4, 5), requires_grad=True)
    d = 2 if bidirectional else 1
    h0 = torch.randn(num_layers * d, 4, 8)
    state = (h0, torch.randn_like(h0)) if mode == "lstm" else h0
    out_ref, st_ref = ref(x, state)
    out, st = ours(x, state)
    assert out.shape == out_ref.shape
    assert _max_diff(out, out_ref) < 1e-6
    assert _max_diff(st, st_ref) < 1e-6
    # 梯度也一致（反向传播经过同样的计算）
    (g_ref,) = torch.autograd.grad(out_ref.square().sum(), x)
    (g,) = torch.autograd.grad(out.square().sum(), x)
    assert float((g - g_ref).abs().max()) < 1e-5


def test_default_state_is_zero_and_init_matches_torch_range():
    torch.manual_seed(1)
    ours = RecurrentScratch("gru", 3, 16)
    ref = nn.GRU(3, 16)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 2, 3)
    assert _max_diff(ours(x)[0], ref(x)[0]) < 1e-6
    fresh = RecurrentScratch("lstm", 3, 16)
    bound = 1 / 16**0.5
    assert all(float(p.detach().abs().max()) <= bound for p in fresh.parameters())


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    rnn = RecurrentScratch("gru", 4, 8, num_layers=2, dropout=0.5)
    x = torch.randn(5, 3, 4)
    rnn.eval()
    assert torch.equal(rnn(x)[0], rnn(x)[0])
    rnn.train()
    assert not torch.equal(rnn(x)[0], rnn(x)[0])


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="未知的循环层"):
        RecurrentScratch("transformer", 2, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make_rnn", [lambda: nn.LSTM(6, 10), lambda: RecurrentScratch("gru", 6, 10)]
)
def test_language_model_shapes_and_state(make_rnn):
    torch.manual_seed(0)
    model = RNNLanguageModel(make_rnn(), vocab_size=6)
    tokens = torch.randint(0, 6, (3, 7))  # (B, T)
    logits, state = model(tokens)
    assert logits.shape == (3, 7, 6)
    assert isinstance(state, tuple) == isinstance(model.rnn, nn.LSTM)  # LSTM 的状态是 (h, c)
    # 分两段输入并带上隐状态，与一次输入整段得到同样的输出
    first, st = model(tokens[:, :4])
    second, _ = model(tokens[:, 4:], st)
    assert torch.allclose(torch.cat([first, second], dim=1), logits, atol=1e-6)


def test_language_model_rejects_bidirectional_and_predicts_from_prefix():
    with pytest.raises(ValueError, match="双向"):
        RNNLanguageModel(nn.GRU(4, 4, bidirectional=True), 4)
    vocab = Vocab(list("abcab "))
    torch.manual_seed(0)
    model = RNNLanguageModel(RecurrentScratch("rnn_tanh", len(vocab), 8), len(vocab))
    out = model.predict("ab", 5, vocab)
    assert out.startswith("ab") and len(out) == 7
    assert set(out) <= set(vocab.idx_to_token) | set("ab")
