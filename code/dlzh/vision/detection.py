"""目标检测的训练目标、损失、指标和预测（SSD 风格，沿用 d2l 的张量约定）。

- 标签 ``labels``：``(批量, 每图最多的目标数, 5)``，每行 ``(类别, x1, y1, x2, y2)``，坐标为相对坐标；
  目标不够的图用类别 ``-1`` 的行填充。
- :func:`multibox_target`：给每个锚框算出训练目标——类别（背景为 0，第 ``k`` 类目标为 ``k+1``）、
  偏移量，以及只让分到真实框的锚框参与回归的掩码。
- :func:`detection_loss`：类别的交叉熵 + 掩码后偏移量的 L1 损失（SSD 的做法）。
- :func:`class_error`、:func:`bbox_mae`：训练时看的两个指标（与 d2l 的 ``cls_eval``/``bbox_eval`` 相同）。
- :func:`multibox_detection`：由预测的类别概率和偏移量得到边界框，再按类别做非极大值抑制。
- :func:`roi_pool`、:func:`roi_align`：R-CNN 系列从特征图上取出一个区域的固定大小特征
  （逐个子窗口写出来的慢实现，用来讲解，与 ``torchvision.ops`` 对照）。
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from dlzh.vision.anchors import assign_anchor_to_bbox
from dlzh.vision.boxes import batched_nms, offset_boxes, offset_inverse

__all__ = [
    "bbox_mae",
    "class_error",
    "detection_loss",
    "multibox_detection",
    "multibox_target",
    "roi_align",
    "roi_pool",
]


def multibox_target(
    anchors: Tensor, labels: Tensor, iou_threshold: float = 0.5
) -> tuple[Tensor, Tensor, Tensor]:
    """返回 ``(偏移量 (B, N*4), 掩码 (B, N*4), 类别 (B, N))``，``N`` 是锚框数。

    ``anchors`` 形状 ``(N, 4)`` 或 ``(1, N, 4)``。没有分到真实框的锚框类别为 0（背景），
    偏移量和掩码为 0：背景锚框只学“这里没有目标”，不学框的位置。
    """
    anchors = anchors.reshape(-1, 4)  # (N, 4)
    offsets, masks, classes = [], [], []
    for label in labels:  # label: (目标数, 5)
        label = label[label[:, 0] >= 0]  # 去掉填充行
        bbox_map = assign_anchor_to_bbox(label[:, 1:], anchors, iou_threshold)  # (N,)
        assigned = bbox_map >= 0
        mask = assigned.float().unsqueeze(-1).repeat(1, 4)  # (N, 4)
        cls = torch.zeros(anchors.shape[0], dtype=torch.long, device=anchors.device)
        boxes = torch.zeros_like(anchors)  # (N, 4)
        cls[assigned] = label[bbox_map[assigned], 0].long() + 1
        boxes[assigned] = label[bbox_map[assigned], 1:]
        offsets.append((offset_boxes(anchors, boxes) * mask).reshape(-1))
        masks.append(mask.reshape(-1))
        classes.append(cls)
    return torch.stack(offsets), torch.stack(masks), torch.stack(classes)


def detection_loss(
    cls_preds: Tensor,
    cls_labels: Tensor,
    bbox_preds: Tensor,
    bbox_labels: Tensor,
    bbox_masks: Tensor,
) -> Tensor:
    """每个样本的检测损失，形状 ``(B,)``：锚框类别的平均交叉熵 + 掩码后偏移量的平均 L1 损失。

    ``cls_preds``：``(B, N, 类别数+1)`` 的对数几率；其余三个张量是 :func:`multibox_target` 的输出
    （``bbox_preds`` 形状 ``(B, N*4)``）。用 L1 而不是平方损失，离得远的预测不会产生过大的梯度。
    """
    batch, num_anchors, num_cls = cls_preds.shape
    cls = F.cross_entropy(
        cls_preds.reshape(-1, num_cls), cls_labels.reshape(-1), reduction="none"
    ).reshape(batch, num_anchors)  # (B, N)
    bbox = F.l1_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks, reduction="none")
    return cls.mean(dim=1) + bbox.mean(dim=1)


def class_error(cls_preds: Tensor, cls_labels: Tensor) -> float:
    """锚框类别预测错误的比例（背景锚框也算在内，所以它很快就会很小）。"""
    wrong = (cls_preds.argmax(dim=-1) != cls_labels).sum()
    return float(wrong) / cls_labels.numel()


def bbox_mae(bbox_preds: Tensor, bbox_labels: Tensor, bbox_masks: Tensor) -> float:
    """掩码后偏移量的平均绝对误差；与 d2l 一样除以全部分量个数（背景锚框的 0 也算在分母里）。"""
    total = ((bbox_labels - bbox_preds.detach()) * bbox_masks).abs().sum()  # 指标不需要梯度
    return float(total) / bbox_labels.numel()


def multibox_detection(
    cls_probs: Tensor,
    offset_preds: Tensor,
    anchors: Tensor,
    nms_threshold: float = 0.5,
    pos_threshold: float = 0.009999999,
) -> Tensor:
    """由预测得到检测结果，形状 ``(B, N, 6)``，每行 ``(类别, 置信度, x1, y1, x2, y2)``。

    ``cls_probs``：``(B, 类别数+1, N)``，第 0 行是背景；``offset_preds``：``(B, N*4)``。
    每个锚框取概率最大的非背景类别作为预测类别，按类别做非极大值抑制（只有同一类别的框
    互相抑制；d2l 的实现不分类别，只有一类目标时二者相同）。被抑制的框和置信度低于 ``pos_threshold`` 的框类别记为 ``-1``（背景）。
    保留的框排在前面，按置信度从高到低。
    """
    anchors = anchors.reshape(-1, 4)  # (N, 4)
    out = []
    for probs, offsets in zip(cls_probs, offset_preds, strict=True):
        conf, class_id = torch.max(probs[1:], dim=0)  # (N,), (N,)
        boxes = offset_inverse(anchors, offsets.reshape(-1, 4))  # (N, 4)
        keep = batched_nms(boxes, conf, class_id, nms_threshold)  # 按置信度从高到低
        kept = torch.zeros_like(conf, dtype=torch.bool)
        kept[keep] = True
        rest = torch.nonzero(~kept).squeeze(1)
        order = torch.cat((keep, rest))
        label = class_id.clone().float()
        label[~kept] = -1
        label[conf < pos_threshold] = -1
        out.append(torch.cat((label[order, None], conf[order, None], boxes[order]), dim=1))
    return torch.stack(out)


def roi_pool(features: Tensor, box: Sequence[float], output_size: tuple[int, int]) -> Tensor:
    """兴趣区域汇聚（Fast R-CNN）：把一个区域均分成 ``output_size`` 个子窗口，各取最大值。

    ``features``：``(C, H, W)``；``box``：特征图坐标下的 ``(x1, y1, x2, y2)``。与
    ``torchvision.ops.roi_pool``（``spatial_scale=1``）相同：区域的边界先**取整**到像素，
    子窗口的边界再向下/向上取整，所以子窗口大小不一、彼此可能重叠。
    """
    _, height, width = features.shape
    x1, y1, x2, y2 = (_round_half_away(float(v)) for v in box)
    roi_h, roi_w = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
    out_h, out_w = output_size
    out = features.new_zeros(features.shape[0], out_h, out_w)  # (C, out_h, out_w)
    for i in range(out_h):
        h0 = min(max(math.floor(i * roi_h / out_h) + y1, 0), height)
        h1 = min(max(math.ceil((i + 1) * roi_h / out_h) + y1, 0), height)
        for j in range(out_w):
            w0 = min(max(math.floor(j * roi_w / out_w) + x1, 0), width)
            w1 = min(max(math.ceil((j + 1) * roi_w / out_w) + x1, 0), width)
            if h1 > h0 and w1 > w0:  # 空的子窗口输出 0
                out[:, i, j] = features[:, h0:h1, w0:w1].amax(dim=(1, 2))
    return out


def _round_half_away(v: float) -> int:
    """C 的 ``round``：0.5 远离 0 取整（Python 的 ``round`` 是银行家舍入，2.5 会变成 2）。"""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def _bilinear(features: Tensor, y: float, x: float) -> Tensor:
    """在 ``(y, x)`` 处双线性插值，越界规则与 torchvision 的 roi_align 相同。"""
    _, height, width = features.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return features.new_zeros(features.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return (
        (1 - ly) * (1 - lx) * features[:, y0, x0]
        + (1 - ly) * lx * features[:, y0, x1]
        + ly * (1 - lx) * features[:, y1, x0]
        + ly * lx * features[:, y1, x1]
    )


def roi_align(
    features: Tensor, box: Sequence[float], output_size: tuple[int, int], aligned: bool = False
) -> Tensor:
    """兴趣区域对齐（Mask R-CNN）：不取整，每个子窗口里均匀取几个点做双线性插值再平均。

    与 ``torchvision.ops.roi_align``（``spatial_scale=1``、``sampling_ratio=-1``）相同：
    每个子窗口在每个方向取 ``ceil(子窗口边长)`` 个采样点。``aligned=True`` 时坐标先减 0.5，
    让像素中心对齐（torchvision 推荐的做法）。
    """
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (float(v) - offset for v in box)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:  # 旧的做法：区域至少 1×1
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    out_h, out_w = output_size
    bin_h, bin_w = roi_h / out_h, roi_w / out_w
    grid_h, grid_w = max(math.ceil(roi_h / out_h), 1), max(math.ceil(roi_w / out_w), 1)
    out = features.new_zeros(features.shape[0], out_h, out_w)  # (C, out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            total = features.new_zeros(features.shape[0])
            for iy in range(grid_h):
                y = y1 + i * bin_h + (iy + 0.5) * bin_h / grid_h
                for ix in range(grid_w):
                    x = x1 + j * bin_w + (ix + 0.5) * bin_w / grid_w
                    total = total + _bilinear(features, y, x)
            out[:, i, j] = total / (grid_h * grid_w)
    return out
