"""dlzh.train.losses：从零实现的损失对照 PyTorch；平滑标签、软目标交叉熵与蒸馏损失对照 timm。"""

from __future__ import annotations

import pytest
import timm.loss as timm_loss
import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models import softmax
from dlzh.train.losses import (
    cross_entropy_from_logits,
    cross_entropy_from_probs,
    distillation_loss,
    masked_softmax_cross_entropy,
    smooth_labels,
    soft_target_cross_entropy,
    squared_loss,
)


@pytest.fixture
def scratch_logits() -> torch.Tensor:
    return torch.randn(16, 10, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def scratch_labels() -> torch.Tensor:
    return torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))


def test_cross_entropy_from_logits_matches_torch(scratch_logits, scratch_labels):
    ours = cross_entropy_from_logits(scratch_logits, scratch_labels)
    torch.testing.assert_close(ours, F.cross_entropy(scratch_logits, scratch_labels))
    assert ours.shape == ()


def test_cross_entropy_from_logits_is_stable_for_large_logits():
    big = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]])
    labels = torch.tensor([2, 0])
    ours = cross_entropy_from_logits(big, labels)
    assert torch.isfinite(ours)
    torch.testing.assert_close(ours, F.cross_entropy(big, labels))
    # 朴素版本在这里先把概率算成 0，再取对数得到 inf：这正是需要 log-sum-exp 的原因。
    assert torch.isinf(cross_entropy_from_probs(softmax(big), labels))


def test_cross_entropy_from_logits_gradient_matches_torch(scratch_logits, scratch_labels):
    a = scratch_logits.clone().requires_grad_()
    b = scratch_logits.clone().requires_grad_()
    cross_entropy_from_logits(a, scratch_labels).backward()
    F.cross_entropy(b, scratch_labels).backward()
    torch.testing.assert_close(a.grad, b.grad)
    # 梯度是 (softmax - one_hot) / B
    expected = (torch.softmax(scratch_logits, 1) - F.one_hot(scratch_labels, 10).float()) / len(
        scratch_labels
    )
    torch.testing.assert_close(a.grad, expected)


def test_naive_cross_entropy_matches_nll_of_log_probs(scratch_logits, scratch_labels):
    probs = torch.softmax(scratch_logits, dim=1)
    torch.testing.assert_close(
        cross_entropy_from_probs(probs, scratch_labels),
        F.nll_loss(torch.log(probs), scratch_labels),
    )


def test_naive_cross_entropy_on_known_values():
    probs = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    labels = torch.tensor([0, 2])
    expected = -(torch.log(torch.tensor(0.1)) + torch.log(torch.tensor(0.5))) / 2
    torch.testing.assert_close(cross_entropy_from_probs(probs, labels), expected)


def test_squared_loss_is_half_mse():
    gen = torch.Generator().manual_seed(2)
    y_hat, y = torch.randn(32, 1, generator=gen), torch.randn(32, 1, generator=gen)
    torch.testing.assert_close(squared_loss(y_hat, y), 0.5 * F.mse_loss(y_hat, y))


def test_squared_loss_does_not_broadcast_column_against_vector():
    y_hat = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.0, 2.0, 5.0])  # (3,) 而非 (3, 1)
    torch.testing.assert_close(squared_loss(y_hat, y), torch.tensor(0.5 * 4 / 3))


def test_cross_entropy_from_probs_is_wrong_on_logits(scratch_logits, scratch_labels):
    # 名字说明输入是概率：把对数几率传进来得到的不是交叉熵（这正是改名的原因）。
    wrong = cross_entropy_from_probs(scratch_logits, scratch_labels)
    assert not torch.allclose(
        wrong, F.cross_entropy(scratch_logits, scratch_labels), equal_nan=True
    )


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 7, generator=g)
    labels = torch.randint(0, 7, (16,), generator=g)
    return logits, labels


def test_smooth_labels_rows_and_values(batch):
    _, labels = batch
    t = smooth_labels(labels, 7, 0.1)
    assert t.shape == (16, 7)
    assert torch.allclose(t.sum(1), torch.ones(16))
    assert torch.allclose(t.max(1).values, torch.full((16,), 1 - 0.1 + 0.1 / 7))
    assert torch.equal(smooth_labels(labels, 7, 0.0), F.one_hot(labels, 7).float())
    with pytest.raises(ValueError):
        smooth_labels(labels, 7, 1.5)


def test_smoothed_targets_give_timm_label_smoothing_loss(batch):
    logits, labels = batch
    theirs = timm_loss.LabelSmoothingCrossEntropy(smoothing=0.1)(logits, labels)
    target = smooth_labels(labels, 7, 0.1)
    assert torch.allclose(soft_target_cross_entropy(logits, target), theirs, atol=1e-6)


def test_probability_targets_equal_timm_soft_target(batch):
    logits, _ = batch
    target = torch.softmax(torch.randn(16, 7, generator=torch.Generator().manual_seed(1)), -1)
    theirs = timm_loss.SoftTargetCrossEntropy()(logits, target)
    assert torch.allclose(soft_target_cross_entropy(logits, target), theirs, atol=1e-6)
    with pytest.raises(ValueError):
        soft_target_cross_entropy(logits, target[:, :3])


def test_hard_distillation_alpha_half_equals_mean_of_two_ce(batch):
    logits, labels = batch
    teacher = torch.randn(16, 7, generator=torch.Generator().manual_seed(2))
    loss = distillation_loss(logits, teacher, labels, alpha=0.5, kind="hard")
    expected = 0.5 * F.cross_entropy(logits, labels) + 0.5 * F.cross_entropy(
        logits, teacher.argmax(1)
    )
    assert torch.allclose(loss, expected, atol=1e-6)
    assert torch.allclose(
        distillation_loss(logits, teacher, labels, alpha=0.0), F.cross_entropy(logits, labels)
    )


def test_soft_distillation_matches_kl_formula(batch):
    logits, labels = batch
    teacher = torch.randn(16, 7, generator=torch.Generator().manual_seed(3))
    tau, alpha = 2.0, 0.3
    p_t = torch.softmax(teacher / tau, -1)
    kl = (p_t * (p_t.log() - torch.log_softmax(logits / tau, -1))).sum(1).mean()
    expected = (1 - alpha) * F.cross_entropy(logits, labels) + alpha * tau**2 * kl
    loss = distillation_loss(logits, teacher, labels, alpha=alpha, tau=tau, kind="soft")
    assert torch.allclose(loss, expected, atol=1e-5)


def test_two_head_student_uses_cls_for_labels_and_dist_for_teacher(batch):
    logits, labels = batch
    dist_head = logits.flip(0)
    teacher = torch.randn(16, 7, generator=torch.Generator().manual_seed(4))
    loss = distillation_loss((logits, dist_head), teacher, labels)
    expected = 0.5 * F.cross_entropy(logits, labels) + 0.5 * F.cross_entropy(
        dist_head, teacher.argmax(1)
    )
    assert torch.allclose(loss, expected, atol=1e-6)


def test_teacher_gets_no_gradient_student_does():
    torch.manual_seed(0)
    teacher, student = nn.Linear(5, 3), nn.Linear(5, 3)
    x, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
    # 即使教师在有梯度的环境里前向，损失也会把它的输出当常数
    loss = distillation_loss(student(x), teacher(x), y, kind="soft", tau=2.0)
    loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())


def test_mixup_probability_labels_are_accepted(batch):
    logits, labels = batch
    soft = smooth_labels(labels, 7, 0.2)
    teacher = torch.randn(16, 7, generator=torch.Generator().manual_seed(5))
    loss = distillation_loss(logits, teacher, soft)
    assert torch.isfinite(loss)


@pytest.mark.parametrize(
    "kwargs", [{"alpha": 1.5}, {"tau": 0.0}, {"kind": "medium"}], ids=["alpha", "tau", "kind"]
)
def test_invalid_arguments(batch, kwargs):
    logits, labels = batch
    with pytest.raises(ValueError):
        distillation_loss(logits, logits, labels, **kwargs)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_masked_cross_entropy_label_smoothing_matches_torch_on_valid_tokens(eps):
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(3, 5, 7, generator=g), torch.randint(0, 7, (3, 5), generator=g)
    valid = torch.tensor([5, 2, 3])
    keep = torch.arange(5)[None, :] < valid[:, None]  # (B, T)
    ours = masked_softmax_cross_entropy(logits, labels, valid, label_smoothing=eps)
    ref = F.cross_entropy(logits[keep], labels[keep], label_smoothing=eps)  # 只取有效位置
    torch.testing.assert_close(ours, ref)
    # 与平滑后的概率目标的交叉熵相同（逐词元）
    per_token = masked_softmax_cross_entropy(
        logits, labels, valid, reduction="none", label_smoothing=eps
    )
    soft = smooth_labels(labels[keep], 7, eps)
    expected = torch.sum(-soft * F.log_softmax(logits[keep], -1), -1)
    torch.testing.assert_close(per_token[keep], expected)
    # 填充位置不计入：为 0，改它们的对数几率不改变损失
    assert bool((per_token[~keep] == 0).all())
    garbage = logits.clone()
    garbage[~keep] = 50.0
    assert torch.equal(
        masked_softmax_cross_entropy(garbage, labels, valid, label_smoothing=eps), ours
    )


def test_label_smoothing_raises_the_loss_floor():
    """平滑后，即使对数几率把全部概率压在正确词元上，损失也不为 0；最优点是目标分布本身。"""
    eps, v = 0.1, 6
    labels = torch.tensor([[1, 4]])
    valid = torch.tensor([2])
    confident = F.one_hot(labels, v).float() * 30.0  # (1, 2, V)
    plain = masked_softmax_cross_entropy(confident, labels, valid)
    smoothed = masked_softmax_cross_entropy(confident, labels, valid, label_smoothing=eps)
    assert float(plain) < 1e-6 and float(smoothed) > 1.0
    optimum = smooth_labels(labels, v, eps).log()  # 对数几率 = 目标分布的对数
    at_opt = masked_softmax_cross_entropy(optimum, labels, valid, label_smoothing=eps)
    target = smooth_labels(labels[0], v, eps)
    entropy = float(-(target * target.log()).sum(-1).mean())
    assert float(at_opt) == pytest.approx(entropy)
    with pytest.raises(ValueError, match="label_smoothing"):
        masked_softmax_cross_entropy(confident, labels, valid, label_smoothing=1.5)
