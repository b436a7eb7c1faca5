"""dlzh.profile：按档位选设置、quick/冒烟模式的说明框、冒烟开关。"""

from __future__ import annotations

import pytest

import dlzh
from dlzh.profile import ProfileNote, is_smoke


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("0", False), ("no", False), ("1", True), ("yes", True)]
)
def test_is_smoke_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("DLZH_SMOKE", value)
    assert is_smoke() is expected


def test_quick_profile_returns_quick_values_and_shows_only_the_differences(monkeypatch, capsys):
    monkeypatch.setenv("DLZH_PROFILE", "quick")
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    cfg = dlzh.settings(
        quick=dict(batch_size=32, lr=0.1), full=dict(batch_size=128, lr=0.1), seed=7
    )
    assert (cfg.batch_size, cfg.lr, cfg.seed) == (32, 0.1, 7)
    note = capsys.readouterr().out  # 测试里不在 IPython 中：打印纯文本
    assert "quick 档位" in note and "批量大小：本次 32，full 档位 128" in note
    assert "学习率" not in note  # 两个档位相同的设置不列出


def test_full_profile_is_silent_and_smoke_mode_says_so(monkeypatch, capsys):
    monkeypatch.setenv("DLZH_PROFILE", "full")
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    cfg = dlzh.settings(quick=dict(num_epochs=2), full=dict(num_epochs=10))
    assert cfg.num_epochs == 10 and capsys.readouterr().out == ""
    monkeypatch.setenv("DLZH_SMOKE", "1")
    assert dlzh.settings(quick=dict(num_epochs=2), full=dict(num_epochs=10)).num_epochs == 10
    assert "冒烟模式" in capsys.readouterr().out


def test_quick_and_full_must_name_the_same_settings(monkeypatch):
    monkeypatch.setenv("DLZH_PROFILE", "quick")
    with pytest.raises(ValueError, match="lr"):
        dlzh.settings(quick=dict(batch_size=32, lr=0.1), full=dict(batch_size=128))


def test_note_html_escapes_values():
    html = ProfileNote("标题", [("图像边长", "<28>", "224")])._repr_html_()
    assert "&lt;28&gt;" in html and "<28>" not in html and "dlzh-profile-note" in html
