"""Transformer：与 ``torch.nn.Transformer`` 复制同一组权重后逐元素对照（前/后归一化、因果与填充掩码），
因果性、填充无关性、完整翻译模型的形状与贪心解码、原论文的学习率。"""

import pytest
import torch
from torch import nn

from dlzh.models import (
    Seq2SeqTransformer,
    Transformer,
    causal_mask,
    convert_torch_attention_state,
    greedy_decode,
    keep_attention_weights,
    padding_mask,
    transformer_lr,
)
from dlzh.text.decoding import beam_search, greedy_search
from dlzh.train import Seq2SeqStep, fit

E, H, FF = 16, 4, 24

# nn.Transformer 在评估模式下对填充掩码走嵌套张量的快速路径（并提醒该接口是原型），
# 前归一化时则提醒用不了这条路径：都是 PyTorch 内部的提示，与对照无关。
pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning"),
]


def _pair(norm_first: bool, dtype=torch.float32) -> tuple[Transformer, nn.Transformer]:
    torch.manual_seed(0)
    theirs = nn.Transformer(
        E, H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
        batch_first=True, norm_first=norm_first,
    ).to(dtype).eval()  # fmt: skip
    with torch.no_grad():  # PyTorch 的偏置和层归一化参数初始为 0/1：随机化，才能查出对错位置
        for name, p in theirs.named_parameters():
            if p.dim() == 1:
                p.normal_(mean=1.0 if "norm" in name and "weight" in name else 0.0, std=0.3)
    ours = Transformer(
        E,
        H,
        2,
        2,
        FF,
        norm_first=norm_first,
        final_norm=True,  # nn.Transformer 总有最后的层归一化
    ).to(dtype)
    ours.load_state_dict(
        convert_torch_attention_state(theirs.state_dict())
    )  # 严格：每个参数一一对应
    return ours.eval(), theirs


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch_with_masks(norm_first, fused):
    ours, theirs = _pair(norm_first)
    for layer in keep_attention_weights(ours, keep=False):
        layer.fused = fused  # 两条注意力路径（融合的与逐步写出的）都与 PyTorch 对照
    b, s, t = 3, 7, 5
    src, tgt = torch.randn(b, s, E), torch.randn(b, t, E)
    src_pad = padding_mask(torch.tensor([7, 4, 2]), s)  # (B, S)，True = 填充
    tgt_pad = padding_mask(torch.tensor([5, 5, 3]), t)
    masks = dict(
        tgt_mask=causal_mask(t),
        src_key_padding_mask=src_pad,
        tgt_key_padding_mask=tgt_pad,
        memory_key_padding_mask=src_pad,
    )
    with torch.no_grad():
        out_t = theirs(src, tgt, **masks)
        out_o = ours(src, tgt, **masks)
        torch.testing.assert_close(out_o, out_t, atol=1e-5, rtol=1e-5)
        # PyTorch 的浮点因果掩码（-inf）与布尔掩码等价
        float_masks = {**masks, "tgt_mask": nn.Transformer.generate_square_subsequent_mask(t)}
        torch.testing.assert_close(ours(src, tgt, **float_masks), out_t, atol=1e-5, rtol=1e-5)
        # 没有掩码时也一致（掩码确实起了作用：两次结果不同）
        plain = ours(src, tgt)
        torch.testing.assert_close(plain, theirs(src, tgt), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(plain, out_o, atol=1e-3)


def test_transformer_matches_torch_in_float64():
    ours, theirs = _pair(norm_first=False, dtype=torch.float64)
    src, tgt = torch.randn(2, 6, E, dtype=torch.float64), torch.randn(2, 4, E, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            ours(src, tgt, tgt_mask=causal_mask(4)),
            theirs(src, tgt, tgt_mask=causal_mask(4)),
            atol=1e-10,
            rtol=1e-10,
        )


def test_decoder_is_causal_and_ignores_padding():
    ours, _ = _pair(norm_first=True)
    src, tgt = torch.randn(2, 6, E), torch.randn(2, 5, E)
    src_pad = padding_mask(torch.tensor([6, 3]), 6)
    with torch.no_grad():
        out = ours(src, tgt, tgt_mask=causal_mask(5), src_key_padding_mask=src_pad,
                   memory_key_padding_mask=src_pad)  # fmt: skip
        # 改变第 3 个目标位置之后的输入，前 3 个位置的输出不变
        tgt2 = tgt.clone()
        tgt2[:, 3:] = torch.randn(2, 2, E)
        out2 = ours(src, tgt2, tgt_mask=causal_mask(5), src_key_padding_mask=src_pad,
                    memory_key_padding_mask=src_pad)  # fmt: skip
        torch.testing.assert_close(out2[:, :3], out[:, :3])
        assert not torch.allclose(out2[:, 3:], out[:, 3:])
        # 改变源序列填充位置上的内容，输出不变
        src2 = src.clone()
        src2[1, 3:] = 50.0
        out3 = ours(src2, tgt, tgt_mask=causal_mask(5), src_key_padding_mask=src_pad,
                    memory_key_padding_mask=src_pad)  # fmt: skip
        torch.testing.assert_close(out3, out)


def test_final_norm_defaults_follow_norm_first():
    assert Transformer(E, H, 1, 1, FF, norm_first=True).encoder.norm is not None
    post = Transformer(E, H, 1, 1, FF, norm_first=False)  # 原论文：每层已以层归一化结束
    assert post.encoder.norm is None and post.decoder.norm is None
    # 各层的参数独立（不是同一个模块的多次引用），且初始值各不相同
    two = Transformer(E, H, 2, 1, FF).encoder.layers
    assert two[0].linear1.weight is not two[1].linear1.weight
    assert not torch.equal(two[0].linear1.weight, two[1].linear1.weight)  # Xavier 各自初始化


def test_seq2seq_transformer_shapes_padding_and_greedy_decode():
    torch.manual_seed(0)
    pad, bos, eos = 0, 1, 2
    model = Seq2SeqTransformer(11, 13, pad, d_model=E, nhead=H, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=FF, dropout=0.0).eval()  # fmt: skip
    src = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]])
    tgt_in = torch.tensor([[1, 3, 4], [1, 5, 0]])
    with torch.no_grad():
        logits = model(src, tgt_in)
        assert logits.shape == (2, 3, 13)
        # 源序列末尾多填充几个 <pad>，第二个样本的输出不变
        src_padded = torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], dim=1)
        torch.testing.assert_close(model(src_padded, tgt_in), logits)
        out = greedy_decode(model, src, bos, eos, max_len=6)
    assert out.shape[0] == 2 and 2 <= out.shape[1] <= 7 and torch.all(out[:, 0] == bos)
    # 贪心解码的每一步都是教师强制下的 argmax：把生成的序列再送回模型，逐位置一致
    with torch.no_grad():
        again = model(src, out[:, :-1]).argmax(-1)
    for b in range(2):
        gen = out[b, 1:]
        n = int((gen == eos).nonzero()[0]) + 1 if (gen == eos).any() else len(gen)
        assert torch.equal(again[b, :n], gen[:n])
        assert torch.all(gen[n:] == pad)


def test_transformer_lr_warmup_then_inverse_sqrt():
    d, warmup = 512, 4000
    lrs = [transformer_lr(s, d, warmup) for s in range(1, 20001)]
    peak = max(range(len(lrs)), key=lrs.__getitem__) + 1
    assert peak == warmup
    assert lrs[warmup - 1] == pytest.approx(d**-0.5 * warmup**-0.5)
    assert lrs[99] == pytest.approx(lrs[0] * 100)  # 预热阶段线性增长
    assert lrs[4 * warmup - 1] == pytest.approx(lrs[warmup - 1] / 2)  # 之后按 1/sqrt(step) 衰减
    assert transformer_lr(0, d, warmup) == lrs[0]


def test_tied_output_layer_shares_the_target_embedding():
    kw = dict(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF)
    untied, tied = (
        Seq2SeqTransformer(11, 13, 0, **kw),
        Seq2SeqTransformer(11, 13, 0, **kw, tie_output=True),
    )
    assert tied.generator.weight is tied.tgt_embed.weight
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 13 * E
    logits = tied(torch.tensor([[3, 4, 2]]), torch.tensor([[1, 5]]))
    logits.sum().backward()
    # 词元 7 不在目标输入里：它那一行的梯度只可能来自输出层，说明两者确实是同一个矩阵
    assert tied.tgt_embed.weight.grad is not None and tied.tgt_embed.weight.grad[7].abs().sum() > 0


def test_seq2seq_transformer_valid_lengths_equal_pad_id_mask():
    torch.manual_seed(0)
    model = Seq2SeqTransformer(11, 13, 0, d_model=E, nhead=H, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=FF, dropout=0.0).eval()  # fmt: skip
    src = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]])
    tgt_in = torch.tensor([[1, 3, 4], [1, 5, 6]])
    with torch.no_grad():
        by_pad = model(src, tgt_in)
        # 与循环神经网络一章相同的调用方式 model(X, 解码器输入, X_valid_len)
        torch.testing.assert_close(model(src, tgt_in, torch.tensor([4, 3])), by_pad)
        # 有效长度更短：第一个样本的最后一个源词元被当作填充，输出随之改变
        assert not torch.allclose(model(src, tgt_in, torch.tensor([3, 3]))[0], by_pad[0])


def test_reversal_task_is_learned_through_fit_and_greedy_decoding_reproduces_it():
    """把 4 个词元倒过来，用 ``dlzh.train.fit`` 和循环神经网络一章的 ``Seq2SeqStep`` 训练。

    训练时整句输入、预测时逐个生成，二者一致才能学会：因果掩码失效时，训练损失照样很低，
    但贪心解码看不到“未来”而失败。"""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    pad, bos, eos, vocab = 0, 1, 2, 10

    def batch(n):
        x = torch.randint(3, vocab, (n, 4), generator=g)
        end = torch.full((n, 1), eos)
        lens = torch.full((n,), 5)
        return torch.cat([x, end], 1), lens, torch.cat([x.flip(1), end], 1), lens  # (n, 5) ...

    model = Seq2SeqTransformer(vocab, vocab, pad, d_model=32, nhead=4, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=64, dropout=0.0,
                               norm_first=True)  # fmt: skip
    history = fit(
        model, [batch(64) for _ in range(40)], 2, device="cpu", verbose=False,
        optimizer=torch.optim.Adam(model.parameters(), lr=5e-3), step=Seq2SeqStep(bos),
        classification=False,
    )  # fmt: skip
    assert history["train_loss"][1] < 0.3 * history["train_loss"][0]
    assert history.last["train_loss"] < 0.2
    src, _, y, _ = batch(200)
    out = greedy_decode(model, src, bos, eos, max_len=5)
    assert (out[:, 1:6] == y).all(1).float().mean() > 0.9


def test_step_protocol_works_with_the_shared_greedy_and_beam_search():
    torch.manual_seed(0)
    pad, bos, eos = 0, 1, 2
    model = Seq2SeqTransformer(11, 13, pad, d_model=E, nhead=H, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=FF, dropout=0.0).eval()  # fmt: skip
    src = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]])
    batched = greedy_decode(model, src, bos, eos, max_len=6)
    by_len = greedy_decode(model, src, bos, eos, max_len=6, src_valid_len=torch.tensor([4, 3]))
    assert torch.equal(by_len, batched)  # 有效长度与 <pad> 给出同样的填充掩码
    for b in range(2):
        state = model.init_state(src[b : b + 1])
        best = greedy_search(model.step, state, bos, eos, max_len=6)
        n = len(best.tokens)
        assert list(best.tokens) == batched[b, 1 : 1 + n].tolist()
        # 束宽 1 的束搜索就是贪心搜索
        one, _ = beam_search(model.step, state, bos, eos, 6, 1, model.select_state)
        assert one.tokens == best.tokens
        # 束宽 3：每个候选的累计对数概率都等于把它送回模型（强制教学）重新算出的值，
        # 说明 select_state 在每步重排候选时，前缀和编码器输出跟着正确的行走
        _, cands = beam_search(model.step, state, bos, eos, 6, 3, model.select_state)
        assert len(cands) >= 3
        for cand in [best, *cands]:
            toks = list(cand.tokens)
            with torch.no_grad():
                lp = model(src[b : b + 1], torch.tensor([[bos, *toks[:-1]]])).log_softmax(-1)[0]
            assert cand.log_prob == pytest.approx(float(lp[range(len(toks)), toks].sum()), abs=1e-4)


def test_seq2seq_step_passes_label_smoothing_to_the_masked_loss():
    from dlzh.train.losses import masked_softmax_cross_entropy

    torch.manual_seed(0)
    model = Seq2SeqTransformer(11, 13, 0, d_model=E, nhead=H, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=FF, dropout=0.0).eval()  # fmt: skip
    x, x_len = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]]), torch.tensor([4, 3])
    y, y_len = torch.tensor([[3, 4, 2], [5, 2, 0]]), torch.tensor([3, 2])
    batch = (x, x_len, y, y_len)
    with torch.no_grad():
        logits = model(x, torch.tensor([[1, 3, 4], [1, 5, 2]]), x_len)  # <bos> + y[:, :-1]
        smoothed = Seq2SeqStep(1, label_smoothing=0.1)(model, batch, None)
        plain = Seq2SeqStep(1)(model, batch, None)
    expected = masked_softmax_cross_entropy(logits, y, y_len, label_smoothing=0.1)
    torch.testing.assert_close(smoothed.loss, expected)
    torch.testing.assert_close(plain.loss, masked_softmax_cross_entropy(logits, y, y_len))
    assert not torch.allclose(smoothed.loss, plain.loss) and int(smoothed.weight) == 5
