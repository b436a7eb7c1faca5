"""从零实现的线性模型：逐一对照 PyTorch 的内置实现，并检查训练能学到东西（损失的测试在 tests/train/test_losses.py）。"""

import pytest
import torch

import dlzh
from dlzh.models import (
    LinearRegressionScratch,
    SoftmaxRegressionScratch,
    softmax,
)
from dlzh.train.losses import cross_entropy_from_logits, squared_loss


@pytest.fixture
def logits() -> torch.Tensor:
    return torch.randn(16, 10, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def labels() -> torch.Tensor:
    return torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))


def test_softmax_matches_torch(logits):
    probs = softmax(logits)
    torch.testing.assert_close(probs, torch.softmax(logits, dim=1))
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(16))
    assert (probs > 0).all()


def test_softmax_is_stable_for_large_logits():
    big = torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    probs = softmax(big)
    assert torch.isfinite(probs).all()
    torch.testing.assert_close(probs, torch.softmax(big, dim=1))
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))
    torch.testing.assert_close(probs[1], torch.full((3,), 1 / 3))


def test_linear_regression_scratch_init_and_shapes():
    dlzh.set_seed(0)
    model = LinearRegressionScratch(num_inputs=5)
    assert {name for name, _ in model.named_parameters()} == {"w", "b"}
    assert model.w.shape == (5, 1) and model.b.shape == (1,)
    assert model.w.abs().max() < 0.1
    assert torch.equal(model.b.detach(), torch.zeros(1))
    assert model(torch.randn(7, 5)).shape == (7, 1)


def test_softmax_regression_scratch_shapes():
    dlzh.set_seed(0)
    model = SoftmaxRegressionScratch()
    assert model.W.shape == (784, 10) and model.b.shape == (10,)
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10)


def test_linear_regression_scratch_recovers_parameters():
    dlzh.set_seed(0)
    true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
    features, targets = dlzh.data.synthetic_linear(true_w, true_b, 1000, noise=0.01, seed=0)
    data_iter = dlzh.data.array_loader(features, targets, batch_size=10, seed=0)
    model = LinearRegressionScratch(num_inputs=2)
    history = dlzh.train.fit(
        model,
        data_iter,
        num_epochs=3,
        optimizer=dlzh.optim.ScratchSGD(model.parameters(), lr=0.03),
        loss_fn=squared_loss,
        device="cpu",
        classification=False,
        verbose=False,
    )
    assert history["train_loss"][-1] < 1e-3
    assert (model.w.detach().reshape(-1) - true_w).abs().max() < 0.05
    assert abs(float(model.b.detach()) - true_b) < 0.05


def _separable_three_classes(n_per_class: int, seed: int):
    """三个分得很开的高斯团，形状伪装成 (N, 1, 4, 4) 的“图像”，检验展平逻辑。"""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.zeros(3, 16)
    centers[0, :5], centers[1, 5:10], centers[2, 10:] = 3.0, 3.0, 3.0
    labels = torch.arange(3).repeat_interleave(n_per_class)  # (3n,)
    features = centers[labels] + 0.5 * torch.randn(len(labels), 16, generator=gen)  # (3n, 16)
    return features.reshape(-1, 1, 4, 4), labels


def test_softmax_regression_scratch_learns_separable_problem():
    dlzh.set_seed(0)
    features, labels = _separable_three_classes(100, seed=0)
    train_iter = dlzh.data.array_loader(features, labels, batch_size=32, seed=0)
    model = SoftmaxRegressionScratch(num_inputs=16, num_outputs=3)
    history = dlzh.train.fit(
        model,
        train_iter,
        num_epochs=5,
        optimizer=dlzh.optim.ScratchSGD(model.parameters(), lr=0.1),
        loss_fn=cross_entropy_from_logits,
        device="cpu",
        verbose=False,
    )
    assert history["train_acc"][-1] > 0.9
    assert history["train_loss"][-1] < history["train_loss"][0]
    accuracy = dlzh.train.evaluate(model, train_iter, device=torch.device("cpu"))["accuracy"]
    assert accuracy > 0.9
