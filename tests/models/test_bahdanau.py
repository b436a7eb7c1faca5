"""Bahdanau 注意力解码器：与 seq2seq 的编码器和 EncoderDecoder 接得上、整段输入等于逐步输入、
第一步的查询是编码器的最终隐状态、填充位置的权重恰好为 0、束搜索的状态重排正确。"""

import torch

from dlzh.models import BahdanauDecoder, EncoderDecoder, Seq2SeqEncoder
from dlzh.text.decoding import beam_search

V_SRC, V_TGT, EMB, HID, LAYERS = 10, 12, 8, 16, 2


def _model() -> EncoderDecoder:
    torch.manual_seed(0)
    encoder = Seq2SeqEncoder(V_SRC, EMB, HID, LAYERS)
    return EncoderDecoder(encoder, BahdanauDecoder(V_TGT, EMB, HID, LAYERS)).eval()


def test_shapes_and_masked_attention_weights():
    model = _model()
    src = torch.randint(0, V_SRC, (3, 7))
    dec_in = torch.randint(0, V_TGT, (3, 5))
    valid = torch.tensor([7, 4, 1])
    with torch.no_grad():
        logits = model(src, dec_in, valid)  # 与 Seq2SeqStep 相同的调用方式
    assert logits.shape == (3, 5, V_TGT)
    w = model.decoder.attention_weights
    assert w.shape == (3, 5, 7)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 5))
    assert torch.all(w[1, :, 4:] == 0) and torch.all(w[2, :, 1:] == 0)
    assert torch.all(w[2, :, 0] == 1)  # 只有一个有效位置：全部权重都在它上面


def test_whole_sequence_equals_step_by_step_and_first_query_is_encoder_state():
    model = _model()
    src = torch.randint(0, V_SRC, (2, 6))
    dec_in = torch.randint(0, V_TGT, (2, 4))
    valid = torch.tensor([6, 3])
    dec = model.decoder
    with torch.no_grad():
        enc_out = model.encoder(src)
        state = dec.init_state(enc_out, valid)
        whole, _ = dec(dec_in, state)
        whole_w = dec.attention_weights
        steps, st = [], state
        for t in range(4):
            out, st = dec(dec_in[:, t : t + 1], st)
            steps.append(out)
        torch.testing.assert_close(torch.cat(steps, dim=1), whole)
        # 第 0 步的查询是编码器最后一层的最终隐状态，键和值是编码器各步的输出
        keys = enc_out[0].transpose(0, 1)  # (B, S, H)
        dec.attention(enc_out[1][-1].unsqueeze(1), keys, keys, valid)
        torch.testing.assert_close(whole_w[:, :1], dec.attention.attention_weights)


def test_padding_content_does_not_change_attention_context():
    # 编码器输出在填充位置上的值被掩蔽：改动它们，解码器的输出不变（隐状态取自编码器则另当别论，
    # 所以这里直接改编码器输出，保持最终隐状态不变）
    model = _model()
    dec = model.decoder
    src = torch.randint(0, V_SRC, (2, 6))
    valid = torch.tensor([6, 3])
    with torch.no_grad():
        outputs, hidden = model.encoder(src)
        changed = outputs.clone()
        changed[3:, 1] = 100.0  # (S, B, H)：第二个样本的填充位置
        dec_in = torch.randint(0, V_TGT, (2, 4))
        a, _ = dec(dec_in, dec.init_state((outputs, hidden), valid))
        b, _ = dec(dec_in, dec.init_state((changed, hidden), valid))
        c, _ = dec(dec_in, dec.init_state((changed, hidden), None))  # 不掩蔽时就会变
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a[1], c[1])


def test_beam_search_candidates_match_teacher_forcing():
    model = _model()
    dec = model.decoder
    src = torch.randint(3, V_SRC, (1, 5))
    valid = torch.tensor([5])
    bos, eos = 1, 2

    def step(tokens, st):
        logits, st = dec(tokens.unsqueeze(1), st)  # (k, 1, V)
        return logits[:, -1].log_softmax(-1), st

    with torch.no_grad():
        state = dec.init_state(model.encoder(src), valid)
        _, cands = beam_search(step, state, bos, eos, 5, 3, dec.select_state)
        for cand in cands:
            toks = list(cand.tokens)
            dec_in = torch.tensor([[bos, *toks[:-1]]])
            lp = model(src, dec_in, valid).log_softmax(-1)[0]
            forced = float(lp[range(len(toks)), toks].sum())
            assert abs(cand.log_prob - forced) < 1e-4
