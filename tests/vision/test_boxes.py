"""边界框：表示互换、IoU、NMS 与 torchvision.ops 逐一对照；偏移量编码/解码互逆。"""

from __future__ import annotations

import pytest
import torch
from torchvision import ops

from dlzh.vision import boxes


def random_boxes(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 100
    wh = torch.rand(n, 2, generator=g) * 50 + 1
    return torch.cat([xy, xy + wh], dim=1).double()


def test_conversions_match_torchvision_and_round_trip():
    b = random_boxes(50, 0)
    center = boxes.box_corner_to_center(b)
    torch.testing.assert_close(center, ops.box_convert(b, "xyxy", "cxcywh"), atol=1e-6, rtol=0)
    torch.testing.assert_close(boxes.box_center_to_corner(center), b, atol=1e-6, rtol=0)
    torch.testing.assert_close(
        boxes.box_center_to_corner(center),
        ops.box_convert(center, "cxcywh", "xyxy"),
        atol=1e-6,
        rtol=0,
    )


def test_iou_matches_torchvision_and_hand_case():
    b1, b2 = random_boxes(20, 1), random_boxes(30, 2)
    torch.testing.assert_close(boxes.box_iou(b1, b2), ops.box_iou(b1, b2), atol=1e-6, rtol=0)
    # 手算：两个 2×2 的框错开 1 格，交 2，并 6
    a = torch.tensor([[0.0, 0, 2, 2]])
    c = torch.tensor([[1.0, 0, 3, 2], [5.0, 5, 6, 6]])
    torch.testing.assert_close(boxes.box_iou(a, c), torch.tensor([[1 / 3, 0.0]]))


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7])
def test_nms_matches_torchvision(threshold):
    b = random_boxes(200, 3).float()
    scores = torch.rand(200, generator=torch.Generator().manual_seed(4))
    assert torch.equal(boxes.nms(b, scores, threshold), ops.nms(b, scores, threshold))


def test_batched_nms_matches_torchvision():
    b = random_boxes(150, 5).float()
    g = torch.Generator().manual_seed(6)
    scores, classes = torch.rand(150, generator=g), torch.randint(0, 3, (150,), generator=g)
    assert torch.equal(
        boxes.batched_nms(b, scores, classes, 0.4), ops.batched_nms(b, scores, classes, 0.4)
    )


def test_nms_hand_case_keeps_threshold_boundary():
    b = torch.tensor([[0.0, 0, 2, 2], [1.0, 0, 3, 2], [0.0, 0, 2, 2.1], [10, 10, 11, 11]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    # 第 2 个与第 1 个 IoU = 1/3，阈值 1/3 时保留（严格大于才删），第 3 个几乎重合被删
    assert boxes.nms(b, scores, 1 / 3).tolist() == [0, 1, 3]
    assert boxes.nms(b, scores, 0.3).tolist() == [0, 3]
    assert boxes.nms(b[:0], scores[:0], 0.5).numel() == 0


def test_offsets_round_trip_and_hand_values():
    anchors, truth = random_boxes(40, 7), random_boxes(40, 8)
    offsets = boxes.offset_boxes(anchors, truth, eps=0.0)
    torch.testing.assert_close(boxes.offset_inverse(anchors, offsets), truth, atol=1e-6, rtol=0)
    # 同中心、宽高都是锚框 2 倍：中心偏移 0，宽高偏移 5 ln 2
    a = torch.tensor([[0.0, 0, 2, 2]])
    t = torch.tensor([[-1.0, -1, 3, 3]])
    torch.testing.assert_close(
        boxes.offset_boxes(a, t, eps=0.0), torch.tensor([[0.0, 0, 5 * 0.6931472, 5 * 0.6931472]])
    )


def test_box_area():
    assert boxes.box_area(torch.tensor([[1.0, 2, 4, 6]])).item() == 12
