"""训练循环的扩展点：语言模型（跨批量带隐状态并 detach、困惑度）与序列到序列（屏蔽填充的损失）。"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.rnn import RecurrentScratch, RNNLanguageModel
from dlzh.models.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder
from dlzh.text import RandomSequenceIterator, SequentialSequenceIterator, TensorBatches
from dlzh.train import evaluate, fit, summarize
from dlzh.train.losses import masked_softmax_cross_entropy
from dlzh.train.steps import LanguageModelStep, Seq2SeqStep, StepOutput

V = 5


@pytest.fixture(autouse=True)
def _one_thread():
    # 小模型的训练在两核、且有别的进程在跑的机器上，两个线程反而比一个慢十几倍（测得）。
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# 周期为 5 的词元序列加少量噪声：一个小 RNN 很快就能学会，困惑度明显低于词表大小。
CORPUS = [(i % V) if i % 17 else (i * 7) % V for i in range(600)]


def _lm(seed: int = 0, scratch: bool = False) -> RNNLanguageModel:
    # 训练用 nn.GRU（快）；从零实现的 GRU 与它逐元素一致，见 tests/models/test_rnn.py。
    torch.manual_seed(seed)
    return RNNLanguageModel(RecurrentScratch("gru", V, 16) if scratch else nn.GRU(V, 16), V)


class _NoDetachStep(LanguageModelStep):
    """反例：把上一个批量的隐状态原样带过来、不 detach。"""

    def __call__(self, model, batch, loss_fn) -> StepOutput:
        x, y = batch
        state = self.state if self.state is not None else model.begin_state(x.shape[0])
        logits, self.state = model(x, state)
        return StepOutput(F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)), y.numel())


def test_carried_state_is_detached_so_sequential_training_runs():
    it = SequentialSequenceIterator(CORPUS, batch_size=4, num_steps=10, seed=0)
    model = _lm(scratch=True)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(RuntimeError, match="second time"):  # 不 detach 就会出这个错
        fit(model, it, 1, optimizer=opt, step=_NoDetachStep(), classification=False, verbose=False)
    model = _lm()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    history = fit(model, it, 8, optimizer=opt, step=LanguageModelStep(), verbose=False)
    last = history.last
    assert last["train_ppl"] < 0.6 * history["train_ppl"][0]
    assert last["train_ppl"] < V / 2  # 明显好于在 V 个词元中均匀地猜


def test_perplexity_is_exp_of_the_token_weighted_mean_loss():
    # 学习率为 0：参数不变，可以在循环外独立地重算每个批量的损失。
    # 随机采样最后一个批量不满，按词元数加权平均才与下面的重算一致。
    it = RandomSequenceIterator(CORPUS, batch_size=7, num_steps=6, seed=5)
    assert len({len(x) for x, _ in it}) == 2
    model = _lm(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    step = LanguageModelStep(carry_state=False)
    history = fit(model, it, 1, optimizer=opt, step=step, test_iter=it, verbose=False)
    record = history.last
    assert record["train_ppl"] == pytest.approx(math.exp(record["train_loss"]))
    assert record["test_ppl"] == pytest.approx(math.exp(record["test_loss"]))
    assert f"困惑度 {record['train_ppl']:.2f}" in summarize(history)
    replay = RandomSequenceIterator(CORPUS, batch_size=7, num_steps=6, seed=5)
    total, tokens = 0.0, 0
    with torch.no_grad():
        for x, y in replay:  # 与 fit 看到的第一个迭代周期相同
            logits, _ = model(x)
            total += float(F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="sum"))
            tokens += y.numel()
    assert record["train_loss"] == pytest.approx(total / tokens, rel=1e-5)
    assert 0.0 <= record["train_acc"] <= 1.0  # 下一个词元的准确率


def test_evaluation_carries_state_across_sequential_batches():
    # 带着隐状态逐批评估，等于把每一行整段一次送进模型：状态确实跨批量延续。
    model = _lm(2).eval()
    it = SequentialSequenceIterator(CORPUS, batch_size=3, num_steps=2, seed=4)
    carried = evaluate(
        model, it, device=torch.device("cpu"), step=LanguageModelStep(), classification=False
    )["loss"]
    fresh = evaluate(
        model,
        it,
        device=torch.device("cpu"),
        classification=False,
        step=LanguageModelStep(carry_state=False),
    )["loss"]
    # it 每次迭代重新抽偏移，重放时用同一个种子的新迭代器取第一个迭代周期
    batches = list(SequentialSequenceIterator(CORPUS, batch_size=3, num_steps=2, seed=4))
    xs = torch.cat([x for x, _ in batches], dim=1)
    ys = torch.cat([y for _, y in batches], dim=1)
    with torch.no_grad():
        logits, _ = model(xs)
    whole = float(F.cross_entropy(logits.reshape(-1, V), ys.reshape(-1)))
    assert carried == pytest.approx(whole, rel=1e-5)
    assert abs(fresh - whole) > 1e-4  # 每批重置则不同：上面的相等不是巧合


def _copy_task(n: int = 64, steps: int = 6, vocab: int = 8, seed: int = 0):
    """把源序列原样“翻译”出来：下标 0 为 <pad>、1 为 <bos>、2 为 <eos>，词元 3..vocab-1。"""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps, (n,), generator=g)  # 不含 <eos> 的长度
    src = torch.zeros(n, steps, dtype=torch.long)
    for i, length in enumerate(lengths.tolist()):
        src[i, :length] = torch.randint(3, vocab, (length,), generator=g)
        src[i, length] = 2
    valid = lengths + 1
    return src, valid, src.clone(), valid.clone()


def test_seq2seq_step_masks_padding_and_learns():
    src, src_len, tgt, tgt_len = _copy_task()
    torch.manual_seed(0)
    model = EncoderDecoder(Seq2SeqEncoder(8, 8, 32, 1), Seq2SeqDecoder(8, 8, 32, 1))
    step = Seq2SeqStep(bos=1)
    batch = (src[:5], src_len[:5], tgt[:5], tgt_len[:5])
    out = step(model, batch, None)
    assert int(out.weight) == int(tgt_len[:5].sum())  # 按有效词元加权
    dec_in = torch.cat([torch.ones(5, 1, dtype=torch.long), tgt[:5, :-1]], dim=1)
    logits = model(src[:5], dec_in)
    mask = torch.arange(6)[None, :] < tgt_len[:5, None]
    expected = F.cross_entropy(logits[mask], tgt[:5][mask])  # 只在有效位置上平均
    assert float(out.loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)

    loader = TensorBatches((src, src_len, tgt, tgt_len), batch_size=16, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, loader, 30, optimizer=opt, step=step, classification=False, verbose=False)
    assert history.last["train_loss"] < 0.5 * history["train_loss"][0]
    assert history.last["train_ppl"] == pytest.approx(math.exp(history.last["train_loss"]))
    with pytest.raises(ValueError, match="classification=False"):
        fit(model, loader, 1, optimizer=opt, step=step, verbose=False)


def test_masked_cross_entropy_ignores_padding():
    torch.manual_seed(0)
    logits, labels = torch.randn(3, 4, 6), torch.randint(0, 6, (3, 4))
    valid = torch.tensor([4, 2, 1])
    per_token = masked_softmax_cross_entropy(logits, labels, valid, reduction="none")
    assert per_token.shape == (3, 4)
    assert bool((per_token[1, 2:] == 0).all()) and bool((per_token[2, 1:] == 0).all())
    garbage = logits.clone()
    garbage[1, 2:] = 100.0  # 填充位置的输出随便是什么，都不影响损失
    assert torch.equal(
        masked_softmax_cross_entropy(garbage, labels, valid),
        masked_softmax_cross_entropy(logits, labels, valid),
    )
    mean = masked_softmax_cross_entropy(logits, labels, valid)
    assert float(mean) == pytest.approx(float(per_token.sum() / valid.sum()))
    # d2l 的 MaskedSoftmaxCELoss：每个序列在 T 个时间步上求平均；其训练日志再除以有效词元数。
    d2l_per_seq = per_token.mean(dim=1)
    d2l_logged = float(d2l_per_seq.sum() / valid.sum())
    assert d2l_logged == pytest.approx(float(mean) / 4)
