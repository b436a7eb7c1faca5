"""绘图：中文字体样式、曲线、训练历史、图像网格和优化轨迹。"""

from dlzh.plot.attention import show_heatmaps
from dlzh.plot.boxes import bbox_to_rect, show_bboxes, show_image
from dlzh.plot.figures import HISTORY_LABELS, plot_history, plot_lines, show_images
from dlzh.plot.optim import plot_curves, plot_schedules, plot_trajectories_2d
from dlzh.plot.style import CJK_FONTS, MissingCJKFontWarning, find_cjk_font, use_style

__all__ = [
    "CJK_FONTS",
    "HISTORY_LABELS",
    "MissingCJKFontWarning",
    "bbox_to_rect",
    "find_cjk_font",
    "plot_curves",
    "plot_history",
    "plot_lines",
    "plot_schedules",
    "plot_trajectories_2d",
    "show_bboxes",
    "show_heatmaps",
    "show_image",
    "show_images",
    "use_style",
]
