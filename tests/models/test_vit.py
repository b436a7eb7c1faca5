"""ViT：切块的形状与顺序、与 ``torchvision.models.VisionTransformer`` 复制权重后逐元素对照、参数个数相同、
类别词元汇聚全图、初始化与 torchvision 一致。"""

import pytest
import torch
from torchvision.models import VisionTransformer as TorchvisionViT
from torchvision.models.vision_transformer import interpolate_embeddings

from dlzh.models import (
    PatchEmbedding,
    VisionTransformer,
    convert_torchvision_vit_state,
    count_parameters,
    create_vit,
    freeze_backbone_,
    load_pretrained_vit_,
    resize_pos_embed,
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
    freeze_backbone_(ours)
    assert count_parameters(ours, trainable_only=True) == d * c + c
    assert [n for n, p in ours.named_parameters() if p.requires_grad] == [
        "head.weight",
        "head.bias",
    ]


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


def test_resize_pos_embed_matches_torchvision():
    _, theirs = _pair()
    state = interpolate_embeddings(48, 8, dict(theirs.state_dict()))  # 4x4 -> 6x6 的块网格
    ours = resize_pos_embed(theirs.encoder.pos_embedding.detach(), 6)
    assert ours.shape == (1, 37, 32)
    torch.testing.assert_close(ours, state["encoder.pos_embedding"])
    torch.testing.assert_close(ours[:, 0], theirs.encoder.pos_embedding[:, 0].detach())
    same = theirs.encoder.pos_embedding.detach()
    assert resize_pos_embed(same, 4) is same
    with pytest.raises(ValueError, match="square"):
        resize_pos_embed(torch.zeros(1, 1 + 12, 32), 4)


def test_load_pretrained_for_fine_tuning_at_another_size_and_class_count():
    _, theirs = _pair(num_classes=10)
    # 同样的结构、不同的图像尺寸（48：6x6 个块）和类别数（5）
    ours = create_vit(**{**CFG, "image_size": 48}, num_classes=5)
    skipped = load_pretrained_vit_(ours, theirs.state_dict())
    assert skipped == ["head.weight", "head.bias"]
    assert torch.all(ours.head.weight == 0)  # 新分类头保持全 0
    # 主干的输出与在同一尺寸上插值过位置嵌入的 torchvision 模型相同
    big = TorchvisionViT(**{**CFG, "image_size": 48}, num_classes=10).eval()
    big.load_state_dict(interpolate_embeddings(48, 8, dict(theirs.state_dict())))
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        tokens = big._process_input(x)
        tokens = torch.cat([big.class_token.expand(2, -1, -1), tokens], dim=1)
        torch.testing.assert_close(ours.eval().features(x), big.encoder(tokens))
    # 结构不同时报错，而不是悄悄只载入一部分
    deeper = create_vit(**{**CFG, "num_layers": 3}, num_classes=10)
    with pytest.raises(ValueError, match="architecture"):
        load_pretrained_vit_(deeper, theirs.state_dict())
    # 同样的尺寸和类别数：全部载入，输出与 torchvision 完全相同
    same = create_vit(**CFG, num_classes=10)
    assert load_pretrained_vit_(same, theirs.state_dict()) == []
    with torch.no_grad():
        torch.testing.assert_close(same.eval()(x[..., :32, :32]), theirs(x[..., :32, :32]))


def test_torchvision_weights_are_fetched_with_hash_check_and_quiet_stderr(monkeypatch, capsys):
    """下载走 torchvision 的权重接口：check_hash=True、不显示进度条，它写到 stderr 的提示被转到 stdout。"""
    import sys

    import torchvision.models._api as api

    from dlzh.models.vit import torchvision_vit_b_16_state

    calls = {}

    def fake_load(url, *args, **kwargs):
        calls.update(url=url, **kwargs)
        sys.stderr.write(f'Downloading: "{url}"\n')
        return {"class_token": torch.zeros(1, 1, 768)}

    monkeypatch.setattr(api, "load_state_dict_from_url", fake_load)
    state = torchvision_vit_b_16_state()
    assert set(state) == {"class_token"}
    assert calls["check_hash"] is True and calls["progress"] is False
    assert calls["url"].endswith("vit_b_16-c867db91.pth")  # 文件名里嵌着摘要前缀
    out = capsys.readouterr()
    assert out.err == "" and "Downloading" in out.out
