"""标签平滑、软目标交叉熵与蒸馏损失：与 PyTorch、timm 的实现对照。"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlzh.losses import distillation_loss, smooth_labels, soft_target_cross_entropy

timm_loss = pytest.importorskip("timm.loss")


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


def test_torch_label_smoothing_equals_timm(batch):
    logits, labels = batch
    ours = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
    theirs = timm_loss.LabelSmoothingCrossEntropy(smoothing=0.1)(logits, labels)
    assert torch.allclose(ours, theirs, atol=1e-6)
    # 同一个量的三种写法
    target = smooth_labels(labels, 7, 0.1)
    assert torch.allclose(soft_target_cross_entropy(logits, target), ours, atol=1e-6)
    assert torch.allclose(F.cross_entropy(logits, target), ours, atol=1e-6)


def test_probability_targets_equal_timm_soft_target(batch):
    logits, _ = batch
    target = torch.softmax(torch.randn(16, 7, generator=torch.Generator().manual_seed(1)), -1)
    theirs = timm_loss.SoftTargetCrossEntropy()(logits, target)
    assert torch.allclose(F.cross_entropy(logits, target), theirs, atol=1e-6)
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


def test_deit_distilled_model_averages_heads_in_eval():
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model(
        "deit_tiny_distilled_patch16_224",
        pretrained=False,
        num_classes=5,
        img_size=32,
        patch_size=8,
        depth=1,
    )
    x = torch.randn(2, 3, 32, 32)
    model.set_distilled_training(True)
    model.train()
    cls_out, dist_out = model(x)
    model.eval()
    with torch.no_grad():
        merged = model(x)
        feats = model.forward_features(x)
        cls_eval, dist_eval = model.head(feats[:, 0]), model.head_dist(feats[:, 1])
    assert cls_out.shape == dist_out.shape == (2, 5)
    assert torch.allclose(merged, (cls_eval + dist_eval) / 2, atol=1e-6)
