"""锚框：生成的个数、形状与宽高比；分配时每个真实框都先得到自己最好的锚框。"""

from __future__ import annotations

import torch

from dlzh.vision import anchors
from dlzh.vision.boxes import box_corner_to_center, box_iou


def test_multibox_prior_count_order_and_geometry():
    h, w = 4, 6
    sizes, ratios = [0.75, 0.5, 0.25], [1, 2, 0.5]
    out = anchors.multibox_prior(torch.zeros(1, 3, h, w), sizes, ratios)
    per = anchors.num_anchors_per_pixel(sizes, ratios)
    assert per == 5 and out.shape == (1, h * w * per, 4)
    boxes = out.reshape(h, w, per, 4)
    center = box_corner_to_center(boxes)
    # 第 (1, 2) 个像素的中心
    torch.testing.assert_close(center[1, 2, :, 0], torch.full((per,), 2.5 / w))
    torch.testing.assert_close(center[1, 2, :, 1], torch.full((per,), 1.5 / h))
    # 换成像素后：高 = s * h / sqrt(r)，宽 = s * h * sqrt(r)，所以图像上的宽高比就是 r
    pix_w, pix_h = center[0, 0, :, 2] * w, center[0, 0, :, 3] * h
    expect_s = torch.tensor([0.75, 0.5, 0.25, 0.75, 0.75])
    expect_r = torch.tensor([1.0, 1, 1, 2, 0.5])
    torch.testing.assert_close(pix_w / pix_h, expect_r)
    torch.testing.assert_close(pix_h, expect_s * h / expect_r.sqrt())


def test_every_ground_truth_gets_its_best_anchor_first():
    # 两个真实框共同的最好锚框 a0 归 IoU 更大的 gt0；gt1 仍要分到一个锚框（a1，IoU 约 0.29，
    # 低于阈值 0.5）。只按阈值分配的话 gt1 一个锚框也没有。
    gt = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.05, 0.0, 0.55, 0.5]])
    anc = torch.tensor([[0.02, 0.0, 0.52, 0.5], [0.3, 0.0, 0.9, 0.5], [0.9, 0.9, 1.0, 1.0]])
    out = anchors.assign_anchor_to_bbox(gt, anc, iou_threshold=0.5)
    assert out.tolist() == [0, 1, -1]
    only_threshold = torch.where(
        box_iou(anc, gt).max(1).values >= 0.5, box_iou(anc, gt).argmax(1), -1
    )
    assert only_threshold.tolist() == [0, -1, -1]


def test_assign_matches_d2l_example():
    # d2l 13.4 节的例子（狗和猫，5 个锚框），d2l 给出的分配结果：[-1, 0, 1, -1, 1]
    gt = torch.tensor([[0.1, 0.08, 0.52, 0.92], [0.55, 0.2, 0.9, 0.88]])
    anc = torch.tensor(
        [
            [0, 0.1, 0.2, 0.3],
            [0.15, 0.2, 0.4, 0.4],
            [0.63, 0.05, 0.88, 0.98],
            [0.66, 0.45, 0.8, 0.8],
            [0.57, 0.3, 0.92, 0.9],
        ]
    )
    assert anchors.assign_anchor_to_bbox(gt, anc, 0.5).tolist() == [-1, 0, 1, -1, 1]


def test_threshold_assignment_and_no_ground_truth():
    gt = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    anc = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.8, 1.0], [0.0, 0.0, 0.4, 1.0]])
    assert anchors.assign_anchor_to_bbox(gt, anc, 0.5).tolist() == [0, 0, -1]
    assert anchors.assign_anchor_to_bbox(gt[:0], anc).tolist() == [-1, -1, -1]
