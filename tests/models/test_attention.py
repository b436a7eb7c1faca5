"""注意力：掩蔽 softmax 的精确零权重、两种评分函数、核回归、多头注意力对照 ``nn.MultiheadAttention``、
正弦位置编码的闭式与相对位置性质。"""

import math

import pytest
import torch
from torch import nn

from dlzh.models import (
    AdditiveAttention,
    DotProductAttention,
    MultiHeadAttention,
    NadarayaWatsonRegression,
    PositionalEncoding,
    causal_mask,
    convert_torch_attention_state,
    keep_attention_weights,
    masked_softmax,
    nadaraya_watson,
    padding_mask,
    position_shift_matrix,
    sequence_mask,
    sinusoidal_positions,
)


def test_sequence_and_padding_masks():
    lens = torch.tensor([2, 3])
    expected = torch.tensor([[True, True, False, False], [True, True, True, False]])
    assert torch.equal(sequence_mask(lens, 4), expected)
    assert torch.equal(padding_mask(lens, 4), ~expected)
    causal = causal_mask(3)
    assert causal.tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    # 与 PyTorch 的浮点版本（-inf 在对角线以上）位置相同
    torch_causal = nn.Transformer.generate_square_subsequent_mask(5)
    assert torch.equal(causal_mask(5), torch.isneginf(torch_causal))


@pytest.mark.parametrize("per_row", [False, True])
def test_masked_softmax_zeroes_masked_positions_exactly(per_row):
    torch.manual_seed(0)
    scores = torch.randn(2, 3, 5) * 10
    lens = torch.tensor([[1, 3, 5], [2, 4, 0]]) if per_row else torch.tensor([2, 4])
    w = masked_softmax(scores, lens)
    full = lens if per_row else lens.unsqueeze(1).expand(2, 3)
    for b in range(2):
        for q in range(3):
            n = int(full[b, q])
            assert torch.all(w[b, q, n:] == 0)  # 恰好为 0，不是很小
            if n > 0:
                torch.testing.assert_close(w[b, q].sum(), torch.tensor(1.0))
                # 有效位置上等于只对有效评分做的普通 softmax
                torch.testing.assert_close(w[b, q, :n], scores[b, q, :n].softmax(-1))
            else:
                assert torch.all(w[b, q] == 0)  # 一整行都被掩蔽：没有 nan，全为 0
    assert not torch.isnan(w).any()


def test_masked_softmax_gradient_has_no_nan_and_ignores_masked_scores():
    scores = torch.randn(2, 2, 4, requires_grad=True)
    w = masked_softmax(scores, torch.tensor([0, 3]))
    (w * torch.arange(4.0)).sum().backward()
    assert not torch.isnan(scores.grad).any()
    assert torch.all(scores.grad[0] == 0) and torch.all(scores.grad[1, :, 3] == 0)


def test_masked_softmax_keep_mask_and_neg_inf():
    scores = torch.tensor([[0.0, 1.0, float("-inf"), 2.0]])
    keep = torch.tensor([[True, False, True, True]])
    w = masked_softmax(scores, keep=keep)
    assert w[0, 1] == 0 and w[0, 2] == 0
    torch.testing.assert_close(w[0, [0, 3]], torch.tensor([0.0, 2.0]).softmax(-1))


def test_dot_product_attention_matches_formula_and_masks():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 4)
    attn = DotProductAttention().eval()
    out = attn(q, k, v, torch.tensor([5, 2]))
    expected0 = (q[0] @ k[0].T / math.sqrt(8)).softmax(-1) @ v[0]
    expected1 = (q[1] @ k[1, :2].T / math.sqrt(8)).softmax(-1) @ v[1, :2]
    torch.testing.assert_close(out[0], expected0)
    torch.testing.assert_close(out[1], expected1)
    assert attn.attention_weights.shape == (2, 3, 5)


def test_additive_attention_formula_and_different_sizes():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 1, 20), torch.ones(2, 10, 2), torch.randn(2, 10, 4)
    attn = AdditiveAttention(key_size=2, query_size=20, num_hiddens=8).eval()
    out = attn(q, k, v, torch.tensor([2, 6]))
    assert out.shape == (2, 1, 4)
    # 所有键相同 -> 有效位置上权重均匀，输出是有效值的平均
    torch.testing.assert_close(out[0, 0], v[0, :2].mean(0))
    torch.testing.assert_close(out[1, 0], v[1, :6].mean(0))
    # 一般情况与公式 w_v^T tanh(W_q q + W_k k) 一致
    k2 = torch.randn(2, 10, 2)
    scores = attn.w_v(torch.tanh(attn.W_q(q)[:, :, None] + attn.W_k(k2)[:, None])).squeeze(-1)
    torch.testing.assert_close(attn(q, k2, v), scores.softmax(-1) @ v)


def test_nadaraya_watson_weights_and_limits():
    torch.manual_seed(0)
    x_train = torch.sort(torch.rand(50) * 5).values
    y_train = 2 * torch.sin(x_train) + x_train**0.8
    x_query = torch.arange(0, 5, 0.5)
    y_hat, w = nadaraya_watson(x_train, y_train, x_query, bandwidth=0.5)
    assert w.shape == (10, 50)
    torch.testing.assert_close(w.sum(1), torch.ones(10))
    # 每个查询的最大权重落在离它最近的训练输入上
    nearest = (x_query[:, None] - x_train[None]).abs().argmin(1)
    assert torch.equal(w.argmax(1), nearest)
    # 带宽很小时退化为最近邻；很大时退化为所有 y 的平均
    y_nn, _ = nadaraya_watson(x_train, y_train, x_query, bandwidth=1e-3)
    torch.testing.assert_close(y_nn, y_train[nearest])
    y_avg, _ = nadaraya_watson(x_train, y_train, x_query, bandwidth=1e4)
    torch.testing.assert_close(y_avg, y_train.mean().expand(10))
    # 带参数的版本在 w = 1/h 时给出同样的结果
    model = NadarayaWatsonRegression(w=1 / 0.5)
    torch.testing.assert_close(model(x_query, x_train.expand(10, 50), y_train), y_hat)


def _copy_into_ours(theirs: nn.MultiheadAttention, **kwargs) -> MultiHeadAttention:
    ours = MultiHeadAttention(theirs.embed_dim, theirs.num_heads, **kwargs)
    ours = ours.to(theirs.out_proj.weight.dtype)  # 先转类型再载入：float64 的权重不经过 float32
    ours.load_state_dict(convert_torch_attention_state(theirs.state_dict()))  # 严格载入
    return ours.eval()


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_multi_head_attention_matches_torch(dtype, tol):
    torch.manual_seed(0)
    b, tq, tk, e, h = 3, 4, 6, 16, 4
    theirs = nn.MultiheadAttention(e, h, batch_first=True).to(dtype).eval()
    nn.init.normal_(theirs.in_proj_bias)  # PyTorch 初始化偏置为 0：填上数，偏置的对照才有意义
    nn.init.normal_(theirs.out_proj.bias)
    ours = _copy_into_ours(theirs)
    q, k, v = (torch.randn(b, t, e, dtype=dtype) for t in (tq, tk, tk))
    kpm = padding_mask(torch.tensor([6, 3, 1]), tk)  # (B, S)，True = 填充
    attn_mask = torch.rand(tq, tk) < 0.3
    attn_mask[:, 0] = False  # 每个查询至少能看到第一个键（PyTorch 对全被掩蔽的行给出 nan）
    float_mask = torch.randn(tq, tk, dtype=dtype)  # 加性浮点掩码
    kpm_float = torch.randn(b, tk, dtype=dtype).masked_fill(kpm, float("-inf"))
    per_head = torch.rand(b * h, tq, tk) < 0.3
    per_head[..., 0] = False
    cases = [
        {},
        {"key_padding_mask": kpm},
        {"attn_mask": attn_mask},
        {"key_padding_mask": kpm, "attn_mask": attn_mask},
        {"attn_mask": float_mask},
        {"attn_mask": float_mask, "key_padding_mask": kpm_float},  # 两个加性掩码相加
        {"attn_mask": per_head, "key_padding_mask": kpm},
        {"key_padding_mask": kpm, "average_attn_weights": False},
    ]
    with torch.no_grad():
        for kwargs in cases:
            out_t, w_t = theirs(q, k, v, **kwargs)
            out_o, w_o = ours(q, k, v, **kwargs)  # 要权重：逐步写出的路径
            torch.testing.assert_close(out_o, out_t, atol=tol, rtol=tol)
            torch.testing.assert_close(w_o, w_t, atol=tol, rtol=tol)
            # 不要权重：默认走融合的 scaled_dot_product_attention，结果相同
            fused, none = ours(q, k, v, need_weights=False, **kwargs)
            assert none is None
            torch.testing.assert_close(fused, out_t, atol=tol, rtol=tol)
        # 自注意力 + 因果掩码，need_weights=False（PyTorch 此时可能走融合的快速路径）
        x = q
        out_t, none_t = theirs(x, x, x, attn_mask=causal_mask(tq), need_weights=False)
        out_o, none_o = ours(x, x, x, attn_mask=causal_mask(tq), need_weights=False)
        assert none_t is None and none_o is None
        torch.testing.assert_close(out_o, out_t, atol=tol, rtol=tol)


def test_multi_head_attention_padding_keys_get_zero_weight_and_kdim():
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True).eval()
    ours = _copy_into_ours(theirs, kdim=5, vdim=3)
    q, k, v = torch.randn(2, 3, 8), torch.randn(2, 4, 5), torch.randn(2, 4, 3)
    kpm = padding_mask(torch.tensor([4, 2]), 4)
    with torch.no_grad():
        out_t, _ = theirs(q, k, v, key_padding_mask=kpm)
        out_o, w_o = ours(q, k, v, key_padding_mask=kpm, average_attn_weights=False)
    torch.testing.assert_close(out_o, out_t)
    assert torch.all(w_o[1, :, :, 2:] == 0)
    # 改变填充位置上的键和值，输出不变
    k2, v2 = k.clone(), v.clone()
    k2[1, 2:], v2[1, 2:] = 100.0, -100.0
    with torch.no_grad():
        torch.testing.assert_close(ours(q, k2, v2, key_padding_mask=kpm)[0], out_o)


def test_fully_masked_rows_give_zero_not_nan():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, fused=False).eval()
    x = torch.randn(1, 3, 8)
    float_mask = torch.zeros(3, 3)
    float_mask[1] = float("-inf")  # 第 2 个查询什么都不许看
    bool_mask = torch.zeros(3, 3, dtype=torch.bool)
    bool_mask[1] = True
    for mask in (float_mask, bool_mask):
        _, w = mha(x, x, x, attn_mask=mask)
        assert not torch.isnan(w).any() and torch.all(w[0, 1] == 0)
        torch.testing.assert_close(w[0, [0, 2]].sum(-1), torch.ones(2))


def test_multi_head_attention_rejects_bad_head_count():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(10, 3)


def test_sinusoidal_positions_closed_form():
    p = sinusoidal_positions(60, 16)
    t, i = 37, 5  # 第 2i 和 2i+1 列
    w = 1 / 10000 ** (2 * i / 16)
    assert p.shape == (60, 16)
    assert p[t, 2 * i].item() == pytest.approx(math.sin(t * w), abs=1e-6)
    assert p[t, 2 * i + 1].item() == pytest.approx(math.cos(t * w), abs=1e-6)
    assert torch.equal(p[0, 0::2], torch.zeros(8)) and torch.equal(p[0, 1::2], torch.ones(8))
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(10, 7)


def test_position_shift_is_linear_and_independent_of_t():
    d, k = 16, 7
    p = sinusoidal_positions(400, d, dtype=torch.float64)
    m = position_shift_matrix(k, d)
    # 闭式的 M 对每个 t 都把 P[t] 映射到 P[t + k]
    torch.testing.assert_close(p[:-k] @ m.T, p[k:], atol=1e-12, rtol=0)
    # 不借助闭式：在前 200 个位置上用最小二乘拟合一个线性映射，它也能预测后面的位置
    fitted = torch.linalg.lstsq(p[:200], p[k : 200 + k]).solution  # (d, d)
    torch.testing.assert_close(p[200:-k] @ fitted, p[200 + k :], atol=1e-6, rtol=0)
    # 对照：同样形状的随机“位置编码”没有这个性质，线性拟合在后面的位置上误差很大
    g = torch.Generator().manual_seed(0)
    r = torch.randn(400, d, generator=g, dtype=torch.float64)
    fitted_r = torch.linalg.lstsq(r[:200], r[k : 200 + k]).solution
    assert (r[200:-k] @ fitted_r - r[200 + k :]).abs().max() > 0.5
    # M 是正交矩阵（一组旋转），与位置 t 无关；换一个偏移就换一个矩阵
    torch.testing.assert_close(m @ m.T, torch.eye(d, dtype=torch.float64))
    assert not torch.allclose(position_shift_matrix(k + 1, d), m)


def test_positional_encoding_module_adds_positions():
    pe = PositionalEncoding(16, dropout=0.0, max_len=50).eval()
    x = torch.randn(2, 10, 16)
    torch.testing.assert_close(pe(x) - x, sinusoidal_positions(10, 16).expand(2, 10, 16))
    assert "P" not in pe.state_dict()
    with pytest.raises(ValueError, match="max_len"):
        pe(torch.zeros(1, 51, 16))


def test_keep_attention_weights_records_per_head_weights():
    torch.manual_seed(0)
    model = nn.Sequential(MultiHeadAttention(8, 2))
    layers = keep_attention_weights(model)
    x = torch.randn(2, 5, 8)
    kpm = padding_mask(torch.tensor([5, 3]), 5)
    _, w = layers[0](x, x, x, key_padding_mask=kpm, average_attn_weights=False)
    assert layers == [model[0]] and torch.equal(layers[0].attention_weights, w)
    assert w.shape == (2, 2, 5, 5) and torch.all(w[1, ..., 3:] == 0)
    keep_attention_weights(model, keep=False)
    assert layers[0].attention_weights is None
    layers[0](x, x, x)
    assert layers[0].attention_weights is None


@pytest.mark.parametrize("fused", [True, False])
def test_multi_head_attention_under_bf16_autocast(fused):
    """``fit(amp="bf16")`` 在自动混合精度下运行注意力：掩码仍然精确，结果接近 float32。"""
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4, fused=fused).eval()
    x = torch.randn(2, 5, 16)
    kpm = padding_mask(torch.tensor([5, 2]), 5)
    with torch.no_grad():
        ref, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
            _, w = mha(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=5e-2, rtol=5e-2)
    assert torch.all(w[1, ..., 2:] == 0)
