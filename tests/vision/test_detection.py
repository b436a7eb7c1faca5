"""检测的训练目标、损失、指标与预测：d2l 书中的手算例子和逐项对照。"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dlzh.vision import detection

GT = torch.tensor([[0.0, 0.1, 0.08, 0.52, 0.92], [1.0, 0.55, 0.2, 0.9, 0.88]])  # 狗、猫
ANCHORS = torch.tensor(
    [
        [0, 0.1, 0.2, 0.3],
        [0.15, 0.2, 0.4, 0.4],
        [0.63, 0.05, 0.88, 0.98],
        [0.66, 0.45, 0.8, 0.8],
        [0.57, 0.3, 0.92, 0.9],
    ]
)


def test_multibox_target_matches_d2l_example():
    # 第二张图只有一个目标，其余行用类别 -1 填充
    labels = torch.stack([GT, torch.tensor([[0.0, 0.0, 0.1, 0.2, 0.3], [-1.0, 0, 0, 0, 0]])])
    offsets, masks, classes = detection.multibox_target(ANCHORS.unsqueeze(0), labels)
    assert offsets.shape == masks.shape == (2, 20) and classes.shape == (2, 5)
    # d2l 给出的结果：类别 [0, 1, 2, 0, 2]，掩码只在分到真实框的锚框上为 1
    assert classes[0].tolist() == [0, 1, 2, 0, 2]
    assert masks[0].reshape(5, 4)[:, 0].tolist() == [0, 1, 1, 0, 1]
    torch.testing.assert_close(
        offsets[0].reshape(5, 4)[1], torch.tensor([1.40, 10.0, 2.59, 7.18]), atol=5e-3, rtol=0
    )
    assert (offsets[0].reshape(5, 4)[[0, 3]] == 0).all()
    # 第二张图：唯一的真实框和锚框 0 完全重合
    assert classes[1].tolist() == [1, 0, 0, 0, 0]
    torch.testing.assert_close(offsets[1][:4], torch.zeros(4), atol=1e-4, rtol=0)


def test_detection_loss_is_class_ce_plus_masked_l1():
    g = torch.Generator().manual_seed(0)
    cls_preds = torch.randn(3, 7, 2, generator=g)
    cls_labels = torch.randint(0, 2, (3, 7), generator=g)
    bbox_preds, bbox_labels = torch.randn(3, 28, generator=g), torch.randn(3, 28, generator=g)
    masks = (torch.rand(3, 28, generator=g) > 0.5).float()
    got = detection.detection_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, masks)
    for i in range(3):
        ce = F.cross_entropy(cls_preds[i], cls_labels[i])
        l1 = ((bbox_preds[i] - bbox_labels[i]).abs() * masks[i]).mean()
        torch.testing.assert_close(got[i], ce + l1)
    # 掩码为 0 的分量，预测再离谱也不产生损失
    far = bbox_preds + 100 * (1 - masks)
    torch.testing.assert_close(
        detection.detection_loss(cls_preds, cls_labels, far, bbox_labels, masks), got
    )


def test_class_error_and_bbox_mae_hand_cases():
    cls_preds = torch.tensor([[[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]]])  # 预测 0, 1, 0, 1
    cls_labels = torch.tensor([[0, 1, 1, 1]])
    assert detection.class_error(cls_preds, cls_labels) == 0.25
    bbox_preds = torch.tensor([[1.0, 2.0, 3.0, 4.0, 9.0, 9.0, 9.0, 9.0]])
    bbox_labels = torch.tensor([[0.0, 2.0, 5.0, 4.0, 0.0, 0.0, 0.0, 0.0]])
    masks = torch.tensor([[1.0, 1, 1, 1, 0, 0, 0, 0]])
    # |1-0| + |3-5| = 3，除以全部 8 个分量（d2l 的定义）
    assert detection.bbox_mae(bbox_preds, bbox_labels, masks) == 3 / 8


def test_multibox_detection_matches_d2l_example():
    anchors = torch.tensor(
        [
            [0.1, 0.08, 0.52, 0.92],
            [0.08, 0.2, 0.56, 0.95],
            [0.15, 0.3, 0.62, 0.91],
            [0.55, 0.2, 0.9, 0.88],
        ]
    )
    offsets = torch.zeros(1, 16)
    cls_probs = torch.tensor([[[0.0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]]])
    out = detection.multibox_detection(cls_probs, offsets, anchors, nms_threshold=0.5)[0]
    assert out[:, 0].tolist() == [0, 1, -1, -1]
    torch.testing.assert_close(out[:, 1], torch.tensor([0.9, 0.9, 0.8, 0.7]))
    torch.testing.assert_close(out[0, 2:], anchors[0])
    torch.testing.assert_close(out[1, 2:], anchors[3])
    # 低于 pos_threshold 的框也记为背景
    low = detection.multibox_detection(cls_probs * 0.01, offsets, anchors, pos_threshold=0.5)[0]
    assert (low[:, 0] == -1).all()


def test_roi_pool_and_roi_align_match_torchvision():
    from torchvision import ops

    g = torch.Generator().manual_seed(1)
    features = torch.randn(3, 9, 11, generator=g, dtype=torch.float64)
    boxes = [
        (0.0, 0.0, 3.0, 3.0),
        (1.3, 2.6, 8.2, 7.9),
        (2.0, 1.0, 10.4, 8.6),
        (5.5, 5.5, 6.0, 6.2),
        (2.5, 0.5, 6.5, 4.5),
        (-1.5, 7.0, 12.0, 10.0),
    ]
    for box in boxes:
        rois = torch.tensor([[0.0, *box]], dtype=torch.float64)
        for size in [(2, 2), (3, 2), (4, 5)]:
            want = ops.roi_pool(features[None], rois, size)[0]
            torch.testing.assert_close(
                detection.roi_pool(features, box, size), want, atol=1e-6, rtol=0
            )
            for aligned in (False, True):
                want = ops.roi_align(features[None], rois, size, aligned=aligned)[0]
                got = detection.roi_align(features, box, size, aligned=aligned)
                torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_roi_pool_hand_case():
    # 4×4 特征图 0..15；第二个区域 (0, 1, 3, 3) 是 d2l 的例子，d2l 给出 [[9, 11], [13, 15]]
    x = torch.arange(16.0).reshape(1, 4, 4)
    assert detection.roi_pool(x, (0, 0, 3, 3), (2, 2)).tolist() == [[[5.0, 7.0], [13.0, 15.0]]]
    assert detection.roi_pool(x, (0, 1, 3, 3), (2, 2)).tolist() == [[[9.0, 11.0], [13.0, 15.0]]]


def test_metrics_accept_tensors_that_require_grad():
    import warnings

    preds = torch.randn(2, 8, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detection.bbox_mae(preds, torch.zeros(2, 8), torch.ones(2, 8))
        detection.class_error(
            torch.randn(2, 3, 2, requires_grad=True), torch.zeros(2, 3, dtype=torch.long)
        )
