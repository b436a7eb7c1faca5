"""能正确显示中文的 Matplotlib 样式。

DejaVu Sans（Matplotlib 默认字体）没有汉字字形，中文会变成方框且只有一条警告。
这里按顺序选用 Noto Sans CJK SC（Debian 的 ``fonts-noto-cjk``）、Windows 和 macOS 自带的
中文字体，并把 DejaVu Sans 留在列表末尾作为回退，负号和西文字母仍由它绘制。
系统里一个中文字体都没有时（没有 root 权限的机器、Colab），改用 PyPI 包 ``mplfonts`` 自带的
Noto Sans CJK SC 字体文件，把它登记给 Matplotlib，这样不需要安装系统软件包也能显示汉字。
图的背景固定为白色：网站的深色模式下，透明背景配黑色文字会看不清。
"""

from __future__ import annotations

import importlib.util
import warnings
from functools import lru_cache
from pathlib import Path

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
# 没有系统中文字体时使用的字体文件：(包名, 包内相对路径)。mplfonts 是 dlzh 的运行时依赖
# （版本锁定在 requirements/constraints.txt），自带 Noto Sans CJK SC（SIL OFL 许可）。
# 只用它的字体文件，不导入它：这里不需要它管理 matplotlibrc 的命令行工具。
PACKAGED_FONTS = (("mplfonts", "fonts/NotoSansCJKsc-Regular.otf"),)


class MissingCJKFontWarning(UserWarning):
    """找不到任何中文字体。"""


_APPLIED = False


def ensure_style() -> None:
    """绘图函数在作图前调用：用户没调用过 :func:`use_style` 时自动套用，避免汉字变方框。"""
    if not _APPLIED:
        use_style()


def _first_installed_cjk_font() -> str | None:
    available = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in available:
            return name
    return None


def packaged_font_files() -> list[Path]:
    """已安装的 Python 包自带的中文字体文件（按 :data:`PACKAGED_FONTS` 的顺序，缺失的跳过）。"""
    files = []
    for package, relative in PACKAGED_FONTS:
        # find_spec 只定位包，不执行它的 __init__.py。
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            path = Path(location) / relative
            if path.is_file():
                files.append(path)
                break
    return files


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """返回第一个可用的中文字体名；一个都没有时返回 ``None``。

    先找系统字体（Matplotlib 启动时扫描到的）；没有的话，把包里自带的字体文件登记给
    Matplotlib 再找一次。
    """
    name = _first_installed_cjk_font()
    if name is not None:
        return name
    for path in packaged_font_files():
        font_manager.fontManager.addfont(str(path))
    return _first_installed_cjk_font()


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
