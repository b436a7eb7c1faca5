"""语义分割工具：颜色表互换、同步随机裁剪、像素准确率和 mIoU（手算的例子）。"""

from __future__ import annotations

import math

import pytest
import torch

from dlzh.vision.segmentation import (
    VOC_CLASSES,
    VOC_CLASSES_ZH,
    VOC_COLORMAP,
    colormap_to_label,
    confusion_matrix,
    label_to_colormap,
    mean_iou,
    pixel_accuracy,
    random_crop_pair,
)


def test_tables_have_21_entries():
    assert len(VOC_COLORMAP) == len(VOC_CLASSES) == len(VOC_CLASSES_ZH) == 21
    assert VOC_COLORMAP[1] == (128, 0, 0) and VOC_CLASSES[1] == "aeroplane"


def test_colormap_round_trip_and_unknown_colours():
    label = torch.randint(0, 21, (5, 7), generator=torch.Generator().manual_seed(0))
    colors = label_to_colormap(label)
    assert colors.shape == (5, 7, 3) and colors.dtype == torch.uint8
    assert torch.equal(colormap_to_label(colors), label)
    assert torch.equal(colormap_to_label(colors.permute(2, 0, 1)), label)  # (3, H, W) 也行
    colors[0, 0] = torch.tensor([224, 224, 192])  # VOC 的“未定义”边缘
    assert colormap_to_label(colors)[0, 0] == 0
    assert colormap_to_label(colors, unknown=255)[0, 0] == 255


def test_random_crop_pair_uses_the_same_window():
    image = torch.arange(2 * 6 * 8).reshape(2, 6, 8)
    label = image[0] * 10
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        img, lbl = random_crop_pair(image, label, 3, 4, generator=g)
        assert img.shape == (2, 3, 4) and lbl.shape == (3, 4)
        assert torch.equal(img[0] * 10, lbl)
    with pytest.raises(ValueError):
        random_crop_pair(image, label, 7, 4)


def test_metrics_on_a_hand_case():
    target = torch.tensor([[0, 0, 1], [1, 2, 255]])
    pred = torch.tensor([[0, 1, 1], [1, 0, 2]])
    cm = confusion_matrix(pred, target, num_classes=3)
    # 忽略 255 后 5 个像素，对 3 个：准确率 3/5。
    assert cm.sum() == 5
    assert pixel_accuracy(cm) == pytest.approx(3 / 5)
    # IoU：类 0 交 1 并 3；类 1 交 2 并 3；类 2 交 0 并 1。
    assert mean_iou(cm) == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)


def test_mean_iou_skips_absent_classes_and_is_one_when_perfect():
    t = torch.tensor([0, 0, 3, 3])
    cm = confusion_matrix(t, t, num_classes=5, ignore_index=None)
    assert mean_iou(cm) == 1.0 and pixel_accuracy(cm) == 1.0
    assert math.isnan(mean_iou(torch.zeros(3, 3, dtype=torch.long)))
