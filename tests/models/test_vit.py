"""ViT：切块的形状与顺序、与 ``torchvision.models.VisionTransformer`` 复制权重后逐元素对照、参数个数相同、
类别词元汇聚全图、初始化与 torchvision 一致。"""

import pytest
import torch
from torchvision.models import VisionTransformer as TorchvisionViT

from dlzh.models import (
    PatchEmbedding,
    VisionTransformer,
    convert_torchvision_vit_state,
    count_parameters,
    create_vit,
)

CFG = dict(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64)


def _pair(num_classes: int = 10, dtype=torch.float32):
    torch.manual_seed(0)
    theirs = TorchvisionViT(**CFG, num_classes=num_classes).to(dtype).eval()
    with torch.no_grad():  # torchvision 把分类头和类别词元初始化为 0：随机化后对照才有意义
        for name, p in theirs.named_parameters():
            if "head" in name or "class_token" in name or "bias" in name:
                p.normal_(std=0.3)
    ours = create_vit(**CFG, num_classes=num_classes).to(dtype)
    ours.load_state_dict(convert_torchvision_vit_state(theirs.state_dict()))  # 严格载入
    return ours.eval(), theirs


def test_patch_embedding_shape_and_row_major_order():
    embed = PatchEmbedding(3, 5, patch_size=4)
    x = torch.randn(2, 3, 8, 12)
    out = embed(x)
    assert out.shape == (2, 6, 5)  # (8/4) * (12/4) = 6 个块
    # 第 4 个块（行优先：第 1 行第 1 列）就是那一块像素展平后的线性映射
    patch = x[:, :, 4:8, 4:8]  # (2, 3, 4, 4)
    w = embed.proj.weight.reshape(5, -1)  # (5, 48)
    torch.testing.assert_close(out[:, 4], patch.reshape(2, -1) @ w.T + embed.proj.bias)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
def test_vit_matches_torchvision(dtype, tol):
    ours, theirs = _pair(dtype=dtype)
    x = torch.randn(3, 3, 32, 32, dtype=dtype)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=tol, rtol=tol)


def test_vit_parameter_count_equals_torchvision():
    ours, theirs = _pair(num_classes=7)
    assert count_parameters(ours) == sum(p.numel() for p in theirs.parameters())
    # 按公式数一遍：切块卷积 + 类别词元 + 位置嵌入 + 每块（2 个层归一化、注意力 4 个 D x D 加偏置、
    # MLP）+ 最后的层归一化 + 分类头
    d, m, n, c = 32, 64, (32 // 8) ** 2, 7
    per_block = 2 * 2 * d + 4 * (d * d + d) + (d * m + m) + (m * d + d)
    expected = (3 * 8 * 8 * d + d) + d + (1 + n) * d + 2 * per_block + 2 * d + (d * c + c)
    assert count_parameters(ours) == expected
    # ViT-B/16 与 torchvision 的 vit_b_16 相同（约 8 660 万个参数）
    with torch.device("meta"):  # 只数参数，不必分配和初始化 8 千多万个数
        vit_b = create_vit()
    assert count_parameters(vit_b) == 86_567_656
    # 线性探测：冻结主干只训练分类头
    for name, p in ours.named_parameters():
        p.requires_grad_(name.startswith("head."))
    assert count_parameters(ours, trainable_only=True) == d * c + c


def test_vit_initialisation_follows_torchvision():
    torch.manual_seed(0)
    vit = VisionTransformer(**CFG, num_classes=10)
    assert torch.all(vit.head.weight == 0) and torch.all(vit.cls_token == 0)
    assert vit.pos_embed.shape == (1, 17, 32)
    assert 0.01 < vit.pos_embed.std().item() < 0.03  # N(0, 0.02^2)
    x = torch.randn(4, 3, 32, 32)
    assert torch.all(vit(x) == 0)  # 分类头为 0：微调开始时新分类头的输出与梯度都不打扰主干


def test_class_token_pools_every_patch_and_other_channels():
    ours, _ = _pair()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        base = ours(x)
        for r, c in [(0, 0), (3, 3), (1, 2)]:  # 改变任何一个块，分类输出都变（自注意力看到全图）
            x2 = x.clone()
            x2[..., 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] += 1.0
            assert not torch.allclose(ours(x2), base)
    gray = create_vit(**CFG, num_classes=5, in_channels=1)
    assert gray(torch.randn(2, 1, 32, 32)).shape == (2, 5)
    with pytest.raises(ValueError, match="patch_size"):
        create_vit(image_size=30, patch_size=8)
