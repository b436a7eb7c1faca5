"""TinySSD：各尺度的特征图形状、锚框总数（d2l：256×256 输入 5444 个）和输出形状。"""

from __future__ import annotations

import torch

from dlzh.models.ssd import TinySSD, down_sample_blk


def test_down_sample_blk_halves_height_and_width():
    assert down_sample_blk(3, 10)(torch.zeros(2, 3, 20, 20)).shape == (2, 10, 10, 10)


def test_tiny_ssd_shapes_match_d2l():
    torch.manual_seed(0)
    net = TinySSD(num_classes=1).eval()
    x = torch.zeros(32, 3, 256, 256)
    with torch.no_grad():
        maps = net.feature_maps(x[:1])
        anchors, cls_preds, bbox_preds = net(x)
    assert [tuple(m.shape[-2:]) for m in maps] == [(32, 32), (16, 16), (8, 8), (4, 4), (1, 1)]
    # d2l 给出的形状：锚框 (1, 5444, 4)，类别 (32, 5444, 2)，偏移量 (32, 21776)
    assert anchors.shape == (1, 5444, 4)
    assert cls_preds.shape == (32, 5444, 2)
    assert bbox_preds.shape == (32, 21776)


def test_predictions_line_up_with_anchors():
    # 把第一个尺度的类别预测层换成常数输出，检查展平后的顺序：同一像素的锚框连续排列
    net = TinySSD(num_classes=2).eval()
    with torch.no_grad():
        conv = net.cls_preds[0]
        conv.weight.zero_()
        conv.bias.copy_(torch.arange(conv.out_channels, dtype=torch.float32))
        _, cls_preds, _ = net(torch.zeros(1, 3, 64, 64))
    per_pixel = net.num_anchors[0] * 3
    first = cls_preds[0, : net.num_anchors[0]].reshape(-1)
    assert first.tolist() == list(range(per_pixel))
    second = cls_preds[0, net.num_anchors[0] : 2 * net.num_anchors[0]].reshape(-1)
    assert second.tolist() == list(range(per_pixel))
