"""FCN：输出高宽等于输入，转置卷积初始化为双线性插值；预训练参数下载失败时的处理。"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlzh.models.fcn import (
    create_fcn,
    create_small_backbone,
    load_torchvision_model,
    resnet18_backbone,
)


def test_resnet18_fcn_shapes():
    backbone, note = resnet18_backbone(pretrained=False)
    assert "随机" in note
    net = create_fcn(backbone, 512, num_classes=21, upsample=32).eval()
    X = torch.zeros(1, 3, 64, 96)
    assert backbone(X).shape == (1, 512, 2, 3)
    assert net(X).shape == (1, 21, 64, 96)


def test_small_backbone_fcn_and_bilinear_upsampling():
    backbone = create_small_backbone(widths=(8, 16, 32))
    net = create_fcn(backbone, 32, num_classes=5, upsample=8).eval()
    X = torch.randn(2, 3, 48, 64)
    assert backbone(X).shape == (2, 32, 6, 8)
    assert net(X).shape == (2, 5, 48, 64)
    # 转置卷积一开始就是双线性插值（内部与 interpolate 相同）。
    Z = torch.randn(1, 5, 6, 8)
    up = net[2](Z)
    ref = F.interpolate(Z, scale_factor=8, mode="bilinear", align_corners=False)
    torch.testing.assert_close(up[..., 4:-4, 4:-4], ref[..., 4:-4, 4:-4], atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        create_fcn(backbone, 32, upsample=7)


def _offline(weights=None, progress=True):
    if weights is not None:
        raise OSError("network unreachable")
    return torch.nn.Linear(1, 1)


def test_pretrained_download_failure_raises_outside_smoke(monkeypatch):
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    with pytest.raises(OSError):
        load_torchvision_model(_offline, "IMAGENET1K_V1")


def test_pretrained_download_failure_is_labelled_in_smoke(monkeypatch):
    monkeypatch.setenv("DLZH_SMOKE", "1")
    model, note = load_torchvision_model(_offline, "IMAGENET1K_V1")
    assert isinstance(model, torch.nn.Linear)
    assert "冒烟模式" in note and "随机参数" in note


def test_pretrained_download_messages_go_to_stdout(capsys):
    import sys

    def noisy(weights=None, progress=True):
        sys.stderr.write('Downloading: "https://example.invalid/w.pth"\n')
        return torch.nn.Linear(1, 1)

    _, note = load_torchvision_model(noisy, "IMAGENET1K_V1")
    out = capsys.readouterr()
    assert "Downloading" in out.out and out.err == "" and "预训练参数" in note
