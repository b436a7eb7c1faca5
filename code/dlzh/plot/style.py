"""能正确显示中文的 Matplotlib 样式。

DejaVu Sans（Matplotlib 默认字体）没有汉字字形，中文会变成方框且只有一条警告。
这里按顺序选用 Noto Sans CJK SC（Debian 的 ``fonts-noto-cjk``）、Windows 和 macOS 自带的
中文字体，并把 DejaVu Sans 留在列表末尾作为回退，负号和西文字母仍由它绘制。
图的背景固定为白色：网站的深色模式下，透明背景配黑色文字会看不清。
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import matplotlib
from matplotlib import font_manager

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "WenQuanYi Zen Hei",
)
FALLBACK_FONT = "DejaVu Sans"


class MissingCJKFontWarning(UserWarning):
    """找不到任何中文字体。"""


_APPLIED = False


def ensure_style() -> None:
    """绘图函数在作图前调用：用户没调用过 :func:`use_style` 时自动套用，避免汉字变方框。"""
    if not _APPLIED:
        use_style()


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """返回系统中第一个可用的中文字体名；一个都没有时返回 ``None``。"""
    available = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in available:
            return name
    return None


def use_style(backend: str | None = None) -> str | None:
    """设置全书统一的图形样式，返回选中的中文字体名。

    找不到中文字体时只发出**一条**清楚的警告（说明如何安装），而不是每个字一条
    "Glyph ... missing" 警告。
    """
    global _APPLIED
    _APPLIED = True
    if backend:
        matplotlib.use(backend)
    cjk = find_cjk_font()
    if cjk is None:
        warnings.warn(
            "未找到中文字体，图中的汉字将无法显示。请安装 Noto Sans CJK（Debian/Ubuntu："
            "sudo apt-get install fonts-noto-cjk），然后删除 ~/.cache/matplotlib/fontlist-*.json。"
            " / No CJK font found: install fonts-noto-cjk and clear matplotlib's font cache.",
            MissingCJKFontWarning,
            stacklevel=2,
        )
    families = ([cjk] if cjk else []) + [FALLBACK_FONT]
    matplotlib.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": families,
            "axes.unicode_minus": False,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.figsize": (5.0, 3.2),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )
    if cjk is None:
        # 没有中文字体时，阻止之后每个汉字再各发一条 "Glyph missing" 警告。
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
    return cjk
