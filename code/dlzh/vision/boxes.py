"""边界框：两种表示的互换、交并比（IoU）、非极大值抑制（NMS）和偏移量的编码/解码。

全书的边界框张量形状都是 ``(..., 4)``：

- **角点表示** ``(x1, y1, x2, y2)``：左上角和右下角的坐标（图像坐标，y 轴向下）；
- **中心表示** ``(cx, cy, w, h)``：中心坐标和宽高。

坐标可以是像素，也可以是除以图像宽高之后的 0～1 的相对坐标，两种表示都不关心单位。
这里的实现与 ``torchvision.ops`` 的 ``box_convert``、``box_iou``、``nms`` 一致（测试逐一对照），
写出来是为了让读者看清每一步；偏移量的编码/解码沿用 d2l（也就是 SSD 论文）的做法。
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "batched_nms",
    "box_area",
    "box_center_to_corner",
    "box_corner_to_center",
    "box_iou",
    "nms",
    "offset_boxes",
    "offset_inverse",
]


def box_corner_to_center(boxes: Tensor) -> Tensor:
    """``(x1, y1, x2, y2)`` -> ``(cx, cy, w, h)``。"""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_center_to_corner(boxes: Tensor) -> Tensor:
    """``(cx, cy, w, h)`` -> ``(x1, y1, x2, y2)``。"""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def box_area(boxes: Tensor) -> Tensor:
    """角点表示的框的面积，形状 ``(...,)``。"""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """两组角点表示的框两两之间的交并比，形状 ``(N, M)``。

    交集的左上角取两框左上角的较大者、右下角取右下角的较小者；不相交时宽或高为负，截成 0。
    """
    area1, area2 = box_area(boxes1), box_area(boxes2)  # (N,), (M,)
    upper_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    lower_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    inter_wh = (lower_right - upper_left).clamp(min=0)  # (N, M, 2)
    inter = inter_wh[..., 0] * inter_wh[..., 1]  # (N, M)
    union = area1[:, None] + area2[None, :] - inter  # (N, M)
    return inter / union


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """非极大值抑制：返回保留下来的框的下标，按置信度从高到低排列。

    每次取出剩下的框里置信度最高的一个保留，再删去与它的 IoU **大于** ``iou_threshold``
    的其他框（与 ``torchvision.ops.nms`` 相同，等于阈值的框保留），直到没有框剩下。
    """
    order = torch.argsort(scores, descending=True, stable=True)  # (N,)
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(best)
        if order.numel() == 1:
            break
        ious = box_iou(boxes[best][None, :], boxes[order[1:]])[0]  # (剩下的个数,)
        order = order[1:][ious <= iou_threshold]
    return torch.stack(keep) if keep else torch.empty(0, dtype=torch.long, device=boxes.device)


def batched_nms(boxes: Tensor, scores: Tensor, classes: Tensor, iou_threshold: float) -> Tensor:
    """按类别分别做非极大值抑制（不同类别的框互不抑制），合并后按置信度从高到低排列。"""
    keep = []
    for c in torch.unique(classes):
        idx = torch.nonzero(classes == c).squeeze(1)  # 这一类的框的下标
        keep.append(idx[nms(boxes[idx], scores[idx], iou_threshold)])
    if not keep:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    keep_all = torch.cat(keep)
    return keep_all[torch.argsort(scores[keep_all], descending=True, stable=True)]


def offset_boxes(anchors: Tensor, assigned: Tensor, eps: float = 1e-6) -> Tensor:
    """把真实边界框编码成相对锚框的偏移量（SSD/d2l 的做法），形状 ``(N, 4)``。

    中心的偏移除以锚框宽高再乘 10（即除以 0.1），宽高取对数比再乘 5（即除以 0.2）：
    这两个常数让偏移量的各分量大致同一量级，回归更好训练。``anchors`` 和 ``assigned``
    都是角点表示。
    """
    c_anc = box_corner_to_center(anchors)  # (N, 4)
    c_box = box_corner_to_center(assigned)  # (N, 4)
    offset_xy = 10 * (c_box[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]  # (N, 2)
    offset_wh = 5 * torch.log(eps + c_box[:, 2:] / c_anc[:, 2:])  # (N, 2)
    return torch.cat([offset_xy, offset_wh], dim=1)


def offset_inverse(anchors: Tensor, offsets: Tensor) -> Tensor:
    """:func:`offset_boxes` 的逆：由锚框和（预测的）偏移量还原角点表示的边界框。"""
    c_anc = box_corner_to_center(anchors)  # (N, 4)
    xy = offsets[:, :2] * c_anc[:, 2:] / 10 + c_anc[:, :2]  # (N, 2)
    wh = torch.exp(offsets[:, 2:] / 5) * c_anc[:, 2:]  # (N, 2)
    return box_center_to_corner(torch.cat([xy, wh], dim=1))
