"""风格迁移：格拉姆矩阵、三种损失、特征提取的层，以及优化确实让总损失下降。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.vision.style import (
    CONTENT_LAYERS,
    STYLE_LAYERS,
    StyleWeights,
    content_loss,
    create_vgg19_features,
    extract_features,
    gram,
    postprocess,
    style_loss,
    style_transfer,
    tv_loss,
)


def test_gram_matches_einsum_and_ignores_positions():
    X = torch.randn(1, 4, 3, 5, generator=torch.Generator().manual_seed(0))
    ref = torch.einsum("chw,dhw->cd", X[0], X[0]) / X.numel()
    torch.testing.assert_close(gram(X), ref)
    shuffled = X.reshape(1, 4, 15)[..., torch.randperm(15)].reshape(1, 4, 3, 5)
    torch.testing.assert_close(gram(shuffled), gram(X))  # 打乱位置，格拉姆矩阵不变


def test_losses_on_hand_cases():
    Y = torch.zeros(1, 1, 2, 2)
    assert content_loss(Y + 2, Y) == 4
    assert style_loss(Y, gram(Y)) == 0
    X = torch.tensor([[[[0.0, 1.0], [3.0, 3.0]]]])
    # 竖直方向 |3-0|,|3-1| 平均 2.5；水平方向 |1-0|,|3-3| 平均 0.5；一半之和 1.5。
    assert tv_loss(X) == pytest.approx(1.5)


def test_extract_features_returns_the_requested_layers():
    net = nn.Sequential(*[nn.Conv2d(2, 2, 1) for _ in range(4)])
    X = torch.randn(1, 2, 3, 3)
    contents, styles = extract_features(net, X, content_layers=(2,), style_layers=(0, 3))
    torch.testing.assert_close(contents[0], net[:3](X))
    torch.testing.assert_close(styles[1], net(X))
    assert len(styles) == 2


def test_vgg19_features_layers_and_frozen():
    net, note = create_vgg19_features(pretrained=False)
    assert len(net) == max(STYLE_LAYERS + CONTENT_LAYERS) + 1 == 29
    assert "随机" in note
    assert not any(p.requires_grad for p in net.parameters())
    assert all(isinstance(net[i], nn.Conv2d) for i in STYLE_LAYERS + CONTENT_LAYERS)


def test_style_transfer_lowers_the_total_loss():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
    for p in net.parameters():
        p.requires_grad_(False)
    content, style = torch.randn(1, 3, 12, 12), torch.randn(1, 3, 12, 12)
    X, history = style_transfer(
        net, content, style, lr=0.1, num_epochs=30, lr_decay_epoch=10,
        weights=StyleWeights(1.0, 1e3, 1.0), content_layers=(2,), style_layers=(0, 2),
    )  # fmt: skip
    assert X.shape == content.shape and not X.requires_grad
    assert history["total"][-1] < 0.5 * history["total"][0]
    assert postprocess(X).shape == (3, 12, 12)
    assert 0 <= postprocess(X).min() and postprocess(X).max() <= 1
