"""序列到序列：形状、上下文在每个时间步固定、逐词解码与整段强制教学一致、翻译接口。"""

from __future__ import annotations

import torch

from dlzh.models.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, translate
from dlzh.text import load_translation

TEXT = "go .\tva !\nhi .\tsalut !\nrun !\tcours !\nwho ?\tqui ?\nwow !\tça alors !\n"


def _model(src_vocab: int = 10, tgt_vocab: int = 12) -> EncoderDecoder:
    torch.manual_seed(0)
    enc = Seq2SeqEncoder(src_vocab, 8, 16, num_layers=2)
    dec = Seq2SeqDecoder(tgt_vocab, 8, 16, num_layers=2)
    return EncoderDecoder(enc, dec).eval()


def test_shapes():
    model = _model()
    src = torch.randint(0, 10, (4, 7))
    outputs, state = model.encoder(src)
    assert outputs.shape == (7, 4, 16) and state.shape == (2, 4, 16)
    logits = model(src, torch.randint(0, 12, (4, 5)))
    assert logits.shape == (4, 5, 12)


def test_step_by_step_decoding_equals_teacher_forcing():
    # 上下文放在解码器状态里、不随解码改变：逐词输入得到的对数几率与整段输入完全一致。
    # （d2l 中文版的解码器每步从自己的最新状态取上下文，这个性质不成立。）
    model = _model()
    src, tgt = torch.randint(0, 10, (3, 6)), torch.randint(0, 12, (3, 5))
    whole = model(src, tgt)
    state = model.decoder.init_state(model.encoder(src))
    pieces = []
    for t in range(tgt.shape[1]):
        out, state = model.decoder(tgt[:, t : t + 1], state)
        pieces.append(out)
    assert torch.allclose(torch.cat(pieces, dim=1), whole, atol=1e-6)


def test_select_state_reorders_rows():
    dec = Seq2SeqDecoder(5, 4, 6, num_layers=3)
    context, hidden = torch.randn(2, 6), torch.randn(3, 2, 6)
    c, h = dec.select_state((context, hidden), torch.tensor([1, 1, 0]))
    assert torch.equal(c, context[[1, 1, 0]]) and torch.equal(h, hidden[:, [1, 1, 0]])


def test_translate_greedy_equals_beam_of_one():
    data = load_translation(num_steps=6, num_examples=None, text=TEXT, min_freq=1)
    model = _model(len(data.src_vocab), len(data.tgt_vocab))
    for sentence in ["go .", "who ?", "wow !"]:
        text1, h1 = translate(model, sentence, data.src_vocab, data.tgt_vocab, 6)
        text2, h2 = translate(model, sentence, data.src_vocab, data.tgt_vocab, 6, beam_size=1)
        assert text1 == text2 and h1.tokens == h2.tokens
        assert h1.log_prob == h2.log_prob or abs(h1.log_prob - h2.log_prob) < 1e-5
        _, h3 = translate(model, sentence, data.src_vocab, data.tgt_vocab, 6, beam_size=4)
        assert 1 <= len(h3.tokens) <= 6
        assert "<eos>" not in text1.split()


def test_translate_passes_the_source_valid_length():
    # 训练时 EncoderDecoder 把 X_valid_len 传给编码器和 init_state；翻译时也必须传，
    # 否则带注意力的解码器会注意到源序列的填充。
    data = load_translation(num_steps=6, num_examples=None, text=TEXT, min_freq=1)
    model = _model(len(data.src_vocab), len(data.tgt_vocab))
    seen = []
    init_state = model.decoder.init_state

    def recording_init_state(enc_outputs, *args):
        seen.append(args)
        return init_state(enc_outputs, *args)

    model.decoder.init_state = recording_init_state
    translate(model, "wow !", data.src_vocab, data.tgt_vocab, 6)
    translate(model, "go . go . go .", data.src_vocab, data.tgt_vocab, 6, beam_size=2)
    assert [a[0].tolist() for a in seen] == [[3], [6]]  # wow ! <eos>；截断到 num_steps


def test_translate_with_an_attention_decoder_ignores_the_source_padding():
    # 有效长度传到 init_state 之后，Bahdanau 解码器对源序列填充位置的注意力权重恰好为 0。
    from dlzh.models.bahdanau import BahdanauDecoder

    data = load_translation(num_steps=6, num_examples=None, text=TEXT, min_freq=1)
    torch.manual_seed(0)
    enc = Seq2SeqEncoder(len(data.src_vocab), 8, 16, num_layers=2)
    dec = BahdanauDecoder(len(data.tgt_vocab), 8, 16, num_layers=2)
    model = EncoderDecoder(enc, dec).eval()
    for beam_size in (None, 3):
        translate(model, "go .", data.src_vocab, data.tgt_vocab, 6, beam_size=beam_size)
        weights = dec.attention_weights  # (k, 1, S)：最后一步的权重
        assert weights.shape[-1] == 6
        assert torch.all(weights[..., 3:] == 0)  # go . <eos> 之后是填充
        assert torch.allclose(weights.sum(-1), torch.ones(weights.shape[:-1]))
