"""编码器-解码器部分的示意图：部件数、中文标签，以及图里的词元、形状和分数与真实计算一致。"""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from dlzh.models.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder
from dlzh.plot import diagrams
from dlzh.plot.diagrams.seq2seq import KEPT, PRUNED, toy_step
from dlzh.text import beam_search, greedy_search, load_translation
from dlzh.train import Seq2SeqStep


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def parts(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_encoder_decoder_shapes_come_from_a_forward_pass():
    fig = diagrams.encoder_decoder(batch_size=3, num_steps=5, vocab_size=11, num_hiddens=6)
    assert len(parts(fig, "dlzh-box")) == 6 and len(parts(fig, "dlzh-arrow")) == 5
    labels = texts(fig)
    assert {"编码器", "解码器", "状态", "输入", "输出"} <= set(labels)
    assert labels.count("3×5") == 2  # 编码器和解码器的输入
    assert "2×3×6" in labels  # (层数, 批量, 隐藏单元数)
    assert "3×5×11" in labels  # (批量, 时间步, 词表大小)


def _tokens_seen_by_seq2seq_step(src: str, tgt: str) -> list[str]:
    """让真实的 Seq2SeqStep 跑一步，记录它喂给模型的解码器输入。"""
    data = load_translation(len(tgt.split()) + 1, None, text=f"{src}\t{tgt}\n", min_freq=1)
    seen = {}

    class Recorder(torch.nn.Module):
        def forward(self, x, dec_input, x_len):
            seen["dec_input"] = dec_input
            return torch.zeros(*dec_input.shape, len(data.tgt_vocab), requires_grad=True)

    batch = (data.src, data.src_valid_len, data.tgt, data.tgt_valid_len)
    Seq2SeqStep(data.tgt_vocab["<bos>"])(Recorder(), batch, None)
    return list(data.tgt_vocab.to_tokens(seen["dec_input"][0].tolist()))


@pytest.mark.parametrize(("src", "tgt"), [("go .", "va !"), ("i'm home .", "je suis chez moi .")])
def test_teacher_forcing_inputs_equal_what_seq2seq_step_feeds(src, tgt):
    fig = diagrams.seq2seq_teacher_forcing(src, tgt)
    n_src, n_tgt = len(src.split()) + 1, len(tgt.split()) + 1  # 各加一个 <eos>
    # 两行（训练、预测），每行每个时间步一个单元
    assert len(parts(fig, "dlzh-box")) == 2 * (n_src + n_tgt)
    labels = texts(fig)
    assert any("强制教学" in t for t in labels) and any(t.startswith("预测") for t in labels)
    dec_inputs = _tokens_seen_by_seq2seq_step(src, tgt)
    assert dec_inputs[0] == "<bos>" and dec_inputs[1:] == tgt.split()
    for tok in dec_inputs:
        assert labels.count(tok) >= 2  # 训练行的输入（预测行里也出现）
    assert labels.count("<eos>") == 2 + 2  # 源序列末尾和标签末尾，两行各一次
    # 预测行：每个输出（最后一个除外）用一条蓝色虚线箭头接到下一步的输入
    blue = [
        a for a in parts(fig, "dlzh-arrow") if matplotlib.colors.to_hex(a.get_edgecolor()) == KEPT
    ]
    assert len(blue) == n_tgt - 1


def test_beam_search_tree_shows_the_recorded_search():
    beam_size, vocab_size, max_len, seed = 2, 4, 3, 4
    fig = diagrams.beam_search_tree(beam_size, vocab_size, max_len, seed)
    step, state, select = toy_step(vocab_size, max_len, seed)
    trace: list = []
    best, _ = beam_search(
        step, state, vocab_size, vocab_size - 1, max_len, beam_size, select, 0.0, trace
    )
    greedy = greedy_search(step, state, vocab_size, vocab_size - 1, max_len)
    n_nodes = sum(len(r.candidates) for r in trace)
    assert len(parts(fig, "dlzh-box")) == 1 + n_nodes  # 加上根节点 <bos>
    arrows = parts(fig, "dlzh-arrow")
    assert len(arrows) == n_nodes  # 每个节点一条来自父节点的边
    colors = [matplotlib.colors.to_hex(a.get_edgecolor()) for a in arrows]
    assert colors.count(KEPT) == sum(sum(r.kept) for r in trace)
    assert colors.count(PRUNED) == n_nodes - colors.count(KEPT)
    labels = texts(fig)
    names = ["A", "B", "C", "<eos>"]
    for record in trace:
        for hyp in record.candidates:
            assert f"{names[hyp.tokens[-1]]}  {hyp.log_prob:.2f}" in labels
    footer = next(t for t in labels if t.startswith("束宽"))
    assert f"（{best.log_prob:.2f}）" in footer and f"（{greedy.log_prob:.2f}）" in footer
    # 默认的例子：束搜索找到了贪心搜索错过的、概率更高的序列
    assert best.tokens != greedy.tokens and best.log_prob > greedy.log_prob


def test_wider_beam_keeps_more_nodes():
    narrow = diagrams.beam_search_tree(beam_size=1)
    wide = diagrams.beam_search_tree(beam_size=3)
    assert len(parts(wide, "dlzh-box")) > len(parts(narrow, "dlzh-box"))


def test_seq2seq_diagrams_do_not_consume_the_pages_random_numbers():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    diagrams.encoder_decoder()
    assert torch.equal(torch.rand(3), expected)


def test_seq2seq_model_used_by_the_diagram_is_the_books():
    # 形状与页面上用同样设置构造的模型一致（防止图与 dlzh.models.seq2seq 脱节）
    model = EncoderDecoder(Seq2SeqEncoder(10, 8, 16, 2), Seq2SeqDecoder(10, 8, 16, 2))
    logits = model(torch.zeros(4, 7, dtype=torch.long), torch.zeros(4, 7, dtype=torch.long))
    assert "×".join(map(str, logits.shape)) in texts(diagrams.encoder_decoder())
