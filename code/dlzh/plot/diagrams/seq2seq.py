"""编码器-解码器、强制教学（teacher forcing）和束搜索树的示意图。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
图里的东西尽量是算出来的：

- :func:`encoder_decoder`：各部分的形状来自一个真实的 :class:`dlzh.models.seq2seq.EncoderDecoder`
  的前向计算；
- :func:`seq2seq_teacher_forcing`：训练时解码器的输入由真实的词表和 :func:`dlzh.text.build_array`
  算出（``<bos>`` 接上右移一位的标签，与 :class:`dlzh.train.Seq2SeqStep` 的做法相同，测试中对照）；
- :func:`beam_search_tree`：每个节点的累计对数概率、哪些候选保留、哪些被剪掉，都由
  :func:`dlzh.text.beam_search` 在一个小的玩具“模型”上运行时记录（``trace``）。
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import EDGE, _arrow, _box, _canvas, _keeps_rng

__all__ = ["beam_search_tree", "encoder_decoder", "seq2seq_teacher_forcing"]

KEPT = "#3d85c6"  # 束搜索中保留的候选、预测时反馈的箭头
PRUNED = "#999999"  # 被剪掉的候选
GAP = 1.8  # 相邻时间步的水平距离


def _shape(t: torch.Size) -> str:
    return "×".join(map(str, t))


@_keeps_rng
def encoder_decoder(
    batch_size: int = 4,
    num_steps: int = 7,
    vocab_size: int = 10,
    embed_size: int = 8,
    num_hiddens: int = 16,
    num_layers: int = 2,
) -> Figure:
    """编码器-解码器架构：编码器把输入序列变成状态，解码器从这个状态出发、读入自己的输入，生成输出。

    方框旁的形状来自一次真实的前向计算（:mod:`dlzh.models.seq2seq`）。
    """
    from dlzh.models.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder

    enc = Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers)
    dec = Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers)
    model = EncoderDecoder(enc, dec).eval()
    src = torch.zeros(batch_size, num_steps, dtype=torch.long)  # (B, T)
    with torch.no_grad():
        enc_out = model.encoder(src)
        _, hidden = model.decoder.init_state(enc_out)  # (L, B, H)
        logits = model(src, src)  # (B, T, V)

    fig, ax = _canvas((-0.6, 13.6), (-0.9, 3.2))
    y = 1.6
    _box(ax, 0.9, y, "输入", kind="input", w=1.6, h=0.7)
    _box(ax, 3.6, y, "编码器", kind="conv", w=2.0, h=0.9)
    _box(ax, 6.5, y, "状态", kind="norm", w=1.6, h=0.7)
    _box(ax, 9.4, y, "解码器", kind="fc", w=2.0, h=0.9)
    _box(ax, 12.3, y, "输出", kind="act", w=1.6, h=0.7)
    _box(ax, 9.4, -0.2, "输入", kind="input", w=1.6, h=0.7)
    _arrow(ax, (1.7, y), (2.6, y))
    _arrow(ax, (4.6, y), (5.7, y))
    _arrow(ax, (7.3, y), (8.4, y))
    _arrow(ax, (10.4, y), (11.5, y))
    _arrow(ax, (9.4, 0.15), (9.4, y - 0.45))
    small = dict(ha="center", va="bottom", fontsize=8.5)
    ax.text(0.9, y + 0.45, _shape(src.shape), **small)
    ax.text(6.5, y + 0.45, _shape(hidden.shape), **small)
    ax.text(12.3, y + 0.45, _shape(logits.shape), **small)
    ax.text(10.25, -0.2, _shape(src.shape), ha="left", va="center", fontsize=8.5)
    ax.text(
        6.5,
        -0.75,
        f"形状：批量 {batch_size}，时间步 {num_steps}，{num_layers} 层，"
        f"隐藏单元 {num_hiddens}，词表 {vocab_size}",
        ha="center",
        fontsize=8.5,
    )
    return fig


def _decoder_inputs(src: str, tgt: str) -> tuple[list[str], list[str], list[str]]:
    """由真实的词表和 ``build_array`` 算出源序列、训练时解码器的输入和标签（都是词元字符串）。"""
    from dlzh.text import BOS, load_translation

    data = load_translation(
        num_steps=len(tgt.split()) + 1, num_examples=None, text=f"{src}\t{tgt}\n", min_freq=1
    )
    x, x_len = data.src[:1], data.src_valid_len[:1]  # (1, T)：源序列末尾同样有 <eos>
    y = data.tgt[:1]  # (1, T)：标签，末尾是 <eos>
    bos = torch.full((1, 1), data.tgt_vocab[BOS], dtype=y.dtype)
    dec_input = torch.cat([bos, y[:, :-1]], dim=1)  # (1, T)：<bos> 加右移一位的标签
    source = data.src_vocab.to_tokens(x[0, : int(x_len[0])].tolist())
    return (
        list(source),
        list(data.tgt_vocab.to_tokens(dec_input[0].tolist())),
        list(data.tgt_vocab.to_tokens(y[0].tolist())),
    )


def _seq2seq_row(
    ax,
    y0: float,
    source: list[str],
    inputs: list[str],
    outputs: list[str],
    *,
    feedback: bool,
    title: str,
) -> None:
    """画一行：左边编码器的各时间步，右边解码器的各时间步；``feedback`` 时输出箭头连到下一步输入。"""
    gap = GAP
    enc_x = [0.8 + gap * i for i in range(len(source))]
    dec_x0 = enc_x[-1] + 2.6
    dec_x = [dec_x0 + gap * i for i in range(len(inputs))]
    cell_y, tok_in, tok_out = y0 + 1.3, y0, y0 + 2.6
    ax.text(enc_x[0] - 0.7, y0 + 3.35, title, ha="left", va="center", fontsize=10.5)
    for i, (x, tok) in enumerate(zip(enc_x, source, strict=True)):
        _box(ax, x, cell_y, "编码器", kind="conv", w=1.25, h=0.6, fontsize=8.5)
        ax.text(x, tok_in, tok, ha="center", va="center", fontsize=10)
        _arrow(ax, (x, tok_in + 0.25), (x, cell_y - 0.3))
        if i:
            _arrow(ax, (enc_x[i - 1] + 0.63, cell_y), (x - 0.63, cell_y))
    for i, (x, tok_i, tok_o) in enumerate(zip(dec_x, inputs, outputs, strict=True)):
        _box(ax, x, cell_y, "解码器", kind="fc", w=1.25, h=0.6, fontsize=8.5)
        color = KEPT if feedback and i else "black"
        ax.text(x, tok_in, tok_i, ha="center", va="center", fontsize=10, color=color)
        ax.text(x, tok_out, tok_o, ha="center", va="center", fontsize=10)
        _arrow(ax, (x, tok_in + 0.25), (x, cell_y - 0.3))
        _arrow(ax, (x, cell_y + 0.3), (x, tok_out - 0.25))
        if i:
            _arrow(ax, (dec_x[i - 1] + 0.63, cell_y), (x - 0.63, cell_y))
        if feedback and i + 1 < len(dec_x):
            # 预测：这一步的输出就是下一步的输入。虚线从两个方框之间的空隙绕下去。
            xm = (x + dec_x[i + 1]) / 2
            ax.plot([x + 0.3, xm, xm], [tok_out, tok_out, tok_in], color=KEPT, ls="--", lw=1.2)
            _arrow(ax, (xm, tok_in), (dec_x[i + 1] - 0.32, tok_in), color=KEPT, style="--")
    # 编码器的最终隐状态：初始化解码器的隐状态，并作为上下文接到解码器每一步的输入
    _arrow(ax, (enc_x[-1] + 0.63, cell_y), (dec_x[0] - 0.63, cell_y), color="#cc0000", lw=1.6)
    ax.text(
        (enc_x[-1] + dec_x[0]) / 2,
        cell_y + 0.12,
        "状态",
        ha="center",
        va="bottom",
        fontsize=8.5,
        color="#cc0000",
    )


def seq2seq_teacher_forcing(src: str = "go .", tgt: str = "va !") -> Figure:
    """序列到序列学习的训练（强制教学）与预测。

    上：训练时解码器每一步的输入是**标签**中的上一个词元（``<bos>`` 加右移一位的标签），
    由真实的词表和 :func:`dlzh.text.build_array` 算出；下：预测时没有标签，解码器把自己上一步
    的输出（蓝色虚线）当作这一步的输入，直到输出 ``<eos>``（图中假设每一步都预测对了）。
    """
    source, inputs, labels = _decoder_inputs(src, tgt)
    n_cols = len(source) + len(inputs)
    right = 0.8 + GAP * (n_cols - 2) + 2.6 + 1.2
    fig, ax = _canvas((-0.3, right), (-1.0, 8.3), scale=0.6)
    _seq2seq_row(
        ax,
        4.3,
        source,
        inputs,
        labels,
        feedback=False,
        title="训练（强制教学）：解码器的输入是 <bos> 加右移一位的标签",
    )
    _seq2seq_row(
        ax,
        0.0,
        source,
        ["<bos>", *labels[:-1]],
        labels,
        feedback=True,
        title="预测：解码器的输入是它自己上一步的输出（蓝色）",
    )
    ax.text(
        right / 2,
        -0.75,
        "红色箭头：编码器最后时间步的隐状态，初始化解码器并作为每一步的上下文",
        ha="center",
        fontsize=8.5,
    )
    return fig


def toy_step(vocab_size: int = 4, max_len: int = 3, seed: int = 4):
    """束搜索树用的玩具“模型”：下一个词元的对数概率只取决于时间步和上一个词元（查一张随机表）。

    返回 ``(step, state, select)``，接口与 :func:`dlzh.text.beam_search` 相同；
    最后一个词元（下标 ``vocab_size - 1``）是 ``<eos>``，``<bos>`` 的下标是 ``vocab_size``。
    """
    gen = torch.Generator().manual_seed(seed)
    table = (torch.randn(max_len, vocab_size + 1, vocab_size, generator=gen) * 1.5).log_softmax(-1)

    def step(tokens: torch.Tensor, state: torch.Tensor):
        return table[state, tokens], state + 1  # (k, V), (k,)

    def select(state: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return state.index_select(0, idx)

    return step, torch.zeros(1, dtype=torch.long), select


def beam_search_tree(
    beam_size: int = 2, vocab_size: int = 4, max_len: int = 3, seed: int = 4
) -> Figure:
    """束搜索树：每一列是一个时间步的全部扩展，彩色的是保留的 ``beam_size`` 条，灰色的被剪掉。

    节点里写着词元和累计对数概率 :math:`\\log P(y_1,\\dots,y_t)`；数据来自
    :func:`dlzh.text.beam_search` 在 :func:`toy_step` 上运行时的记录。最后一行比较束搜索与
    贪心搜索找到的序列和它们的对数概率（不加长度惩罚，``alpha=0``）。
    """
    from dlzh.text import beam_search, greedy_search

    names = [chr(ord("A") + i) for i in range(vocab_size - 1)] + ["<eos>"]
    eos, bos = vocab_size - 1, vocab_size
    step, state, select = toy_step(vocab_size, max_len, seed)
    trace: list = []
    best, _ = beam_search(step, state, bos, eos, max_len, beam_size, select, alpha=0.0, trace=trace)
    greedy = greedy_search(step, state, bos, eos, max_len)

    rows = max(len(r.candidates) for r in trace)
    dy, dx = 0.72, 3.3
    height = rows * dy
    fig, ax = _canvas((-1.0, dx * len(trace) + 1.6), (-1.5, height + 0.6), scale=0.58)
    pos: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, height / 2)}
    _box(ax, 0.0, height / 2, "<bos>", kind="input", w=1.3, h=0.5, fontsize=9)
    for t, record in enumerate(trace, start=1):
        x = dx * t
        n = len(record.candidates)
        top = height / 2 + (n - 1) * dy / 2
        ax.text(x, height + 0.25, f"时间步 {t}", ha="center", va="bottom", fontsize=9)
        # 按父节点从上到下排列各组扩展，连线不交叉（trace 中的组按父节点的对数概率排列）。
        order = sorted(range(n), key=lambda i: (-pos[record.candidates[i].tokens[:-1]][1], i))
        for row, i in enumerate(order):
            hyp, kept = record.candidates[i], record.kept[i]
            y = top - row * dy
            pos[hyp.tokens] = (x, y)
            px, py = pos[hyp.tokens[:-1]]
            color = KEPT if kept else PRUNED
            _arrow(ax, (px + 0.7, py), (x - 0.85, y), color=color, lw=1.4 if kept else 0.8)
            kind = ("fc" if hyp.finished else "conv") if kept else "op"
            _box(
                ax,
                x,
                y,
                f"{names[hyp.tokens[-1]]}  {hyp.log_prob:.2f}",
                kind=kind,
                w=1.7,
                h=0.5,
                fontsize=8.5,
            )

    def describe(tokens: tuple[int, ...]) -> str:
        return " ".join(names[i] for i in tokens)

    ax.text(
        (dx * len(trace)) / 2,
        -0.7,
        f"束宽 {beam_size}：蓝框保留、灰框剪掉、橙框以 <eos> 结束；"
        f"束搜索 {describe(best.tokens)}（{best.log_prob:.2f}），"
        f"贪心搜索 {describe(greedy.tokens)}（{greedy.log_prob:.2f}）",
        ha="center",
        fontsize=8.5,
    )
    ax.text(
        (dx * len(trace)) / 2,
        -1.25,
        "方框中的数是累计对数概率 $\\log P(y_1, \\ldots, y_t)$",
        ha="center",
        fontsize=8.5,
        color=EDGE,
    )
    return fig
