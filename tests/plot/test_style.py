"""中文字体：有字体时不出现缺字警告；没有字体时只有一条清楚的警告。"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pytest

from dlzh.plot import MissingCJKFontWarning, find_cjk_font, plot_lines, show_images, use_style
from dlzh.plot import style as style_module


def _render(fig) -> None:
    fig.canvas.draw()
    plt.close(fig)


def test_chinese_text_renders_without_missing_glyphs():
    if find_cjk_font() is None:
        pytest.skip("本机没有中文字体（fonts-noto-cjk）；scripts/setup-env.sh 在有权限时会安装")
    use_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 任何 "Glyph ... missing" 都会让测试失败
        fig = plot_lines([1, 2, 3], {"训练损失": [3, 2, 1]}, xlabel="迭代周期", ylabel="损失 −1")
        _render(fig)


def test_figures_have_white_background():
    use_style()
    fig = plot_lines(None, [1.0, 0.5])
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close(fig)


def test_missing_font_gives_one_clear_warning(monkeypatch):
    style_module.find_cjk_font.cache_clear()
    monkeypatch.setattr(style_module, "find_cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert use_style() is None
        fig = plot_lines([1, 2], {"中文图例": [1, 2]}, title="没有中文字体")
        _render(fig)
    ours = [w for w in caught if issubclass(w.category, MissingCJKFontWarning)]
    glyphs = [w for w in caught if "Glyph" in str(w.message)]
    assert len(ours) == 1 and "fonts-noto-cjk" in str(ours[0].message)
    assert glyphs == []
    warnings.resetwarnings()


@pytest.fixture
def no_system_cjk_font(monkeypatch):
    """让 Matplotlib 看起来像一台没有任何系统中文字体的机器（如没有 root 的服务器或 Colab）。"""
    manager = style_module.font_manager.fontManager
    western = [entry for entry in manager.ttflist if entry.name not in style_module.CJK_FONTS]
    monkeypatch.setattr(manager, "ttflist", western)
    style_module.find_cjk_font.cache_clear()
    yield manager
    style_module.find_cjk_font.cache_clear()


def test_packaged_font_is_registered_when_the_system_has_none(no_system_cjk_font):
    [packaged] = style_module.packaged_font_files()  # mplfonts 是运行时依赖，必须装着
    assert style_module.find_cjk_font() == "Noto Sans CJK SC"
    registered = [e.fname for e in no_system_cjk_font.ttflist if e.name == "Noto Sans CJK SC"]
    assert registered == [str(packaged)]
    # 用这个字体文件真的能画出汉字：没有 "Glyph ... missing" 警告。
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, ax = plt.subplots()
        ax.set_title(
            "训练损失", fontproperties=style_module.font_manager.FontProperties(fname=packaged)
        )
        _render(fig)


def test_no_font_at_all_when_the_package_is_missing_too(no_system_cjk_font, monkeypatch):
    monkeypatch.setattr(style_module, "PACKAGED_FONTS", (("no_such_font_package", "x.otf"),))
    assert style_module.packaged_font_files() == []
    assert style_module.find_cjk_font() is None


def test_show_images_grid_shapes():
    import torch

    use_style()
    fig = show_images(torch.rand(5, 1, 8, 8), 2, 3, titles=["一", "二", "三", "四", "五"])
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "一"
    plt.close(fig)
