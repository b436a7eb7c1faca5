"""锚框：以每个像素为中心生成多个大小和宽高比不同的框，再把真实边界框分配给锚框。

生成（:func:`multibox_prior`，SSD 的做法，与 d2l 相同）：设输入高 ``h``、宽 ``w``，缩放比
``s_1, …, s_n``，宽高比 ``r_1, …, r_m``。只取含 ``s_1`` 或 ``r_1`` 的组合
``(s_1, r_1), …, (s_n, r_1), (s_1, r_2), …, (s_1, r_m)``，每个像素 ``n + m - 1`` 个锚框，
而不是全部 ``n * m`` 个组合。锚框宽 ``w_a = s * sqrt(r) * h / w``、高 ``h_a = s / sqrt(r)``
（都是相对图像宽、高的比例），所以 ``r`` 是锚框在图像上的实际宽高比，``s`` 是它相对图像高的边长。

分配（:func:`assign_anchor_to_bbox`）：先保证**每个真实边界框都有自己最好的锚框**——在 IoU
矩阵里反复找最大的元素，把这一对配上，再删掉它所在的行和列；然后其余锚框各自取 IoU
最大的真实边界框，只有 IoU 不小于阈值时才分配。结果与 d2l 的实现相同（d2l 先按阈值分配，
再用第一步的配对覆盖）。
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dlzh.vision.boxes import box_iou

__all__ = ["assign_anchor_to_bbox", "multibox_prior", "num_anchors_per_pixel"]


def num_anchors_per_pixel(sizes: Sequence[float], ratios: Sequence[float]) -> int:
    """每个像素的锚框个数 ``n + m - 1``。"""
    return len(sizes) + len(ratios) - 1


def multibox_prior(data: Tensor, sizes: Sequence[float], ratios: Sequence[float]) -> Tensor:
    """以 ``data``（形状 ``(..., H, W)``）的每个像素为中心生成锚框，返回 ``(1, H*W*(n+m-1), 4)``。

    坐标是角点表示、除以图像宽高后的相对坐标；同一像素的锚框连续排列，顺序为
    ``(s_1, r_1), …, (s_n, r_1), (s_1, r_2), …, (s_1, r_m)``。
    """
    in_height, in_width = data.shape[-2:]
    device = data.device
    size_t = torch.tensor(list(sizes), dtype=torch.float32, device=device)  # (n,)
    ratio_t = torch.tensor(list(ratios), dtype=torch.float32, device=device)  # (m,)
    per_pixel = num_anchors_per_pixel(sizes, ratios)
    # 像素中心：第 i 行的中心在 (i + 0.5) / H
    center_h = (torch.arange(in_height, device=device) + 0.5) / in_height  # (H,)
    center_w = (torch.arange(in_width, device=device) + 0.5) / in_width  # (W,)
    shift_y, shift_x = torch.meshgrid(center_h, center_w, indexing="ij")  # (H, W) 各一个
    shift_y, shift_x = shift_y.reshape(-1), shift_x.reshape(-1)  # (H*W,)

    # 先 (s_i, r_1) 再 (s_1, r_j)，j >= 2
    w = torch.cat(
        (size_t * torch.sqrt(ratio_t[0]), size_t[0] * torch.sqrt(ratio_t[1:]))
    )  # (n+m-1,)
    w = w * in_height / in_width  # 让 r 成为图像上的真实宽高比
    h = torch.cat((size_t / torch.sqrt(ratio_t[0]), size_t[0] / torch.sqrt(ratio_t[1:])))
    half = torch.stack((-w, -h, w, h)).T / 2  # (n+m-1, 4)
    anchor_manip = half.repeat(in_height * in_width, 1)  # (H*W*(n+m-1), 4)
    centers = torch.stack([shift_x, shift_y, shift_x, shift_y], dim=1)  # (H*W, 4)
    centers = centers.repeat_interleave(per_pixel, dim=0)  # (H*W*(n+m-1), 4)
    return (centers + anchor_manip).unsqueeze(0)


def assign_anchor_to_bbox(
    ground_truth: Tensor, anchors: Tensor, iou_threshold: float = 0.5
) -> Tensor:
    """把真实边界框分配给锚框，返回形状 ``(锚框数,)`` 的下标，未分配的锚框为 ``-1``。

    第一步保证每个真实边界框都分到与它 IoU 最大的锚框（贪心地按 IoU 从大到小配对，
    一个锚框只配一个真实边界框）；第二步其余锚框取 IoU 最大的真实边界框，IoU 不小于
    ``iou_threshold`` 才分配。
    """
    num_anchors, num_gt = anchors.shape[0], ground_truth.shape[0]
    jaccard = box_iou(anchors, ground_truth)  # (锚框数, 真实框数)
    anchors_bbox_map = torch.full((num_anchors,), -1, dtype=torch.long, device=anchors.device)
    if num_gt == 0:
        return anchors_bbox_map
    # 第一步：每个真实边界框先拿到它最好的锚框
    work = jaccard.clone()
    for _ in range(min(num_gt, num_anchors)):
        flat = torch.argmax(work)
        anc_idx, box_idx = flat // num_gt, flat % num_gt
        anchors_bbox_map[anc_idx] = box_idx
        work[:, box_idx] = -1  # 删掉这一列（这个真实框已经配好）
        work[anc_idx, :] = -1  # 删掉这一行（这个锚框已经用掉）
    # 第二步：其余锚框按阈值分配
    max_ious, indices = torch.max(jaccard, dim=1)  # (锚框数,)
    free = (anchors_bbox_map == -1) & (max_ious >= iou_threshold)
    anchors_bbox_map[free] = indices[free]
    return anchors_bbox_map
