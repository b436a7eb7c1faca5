"""档位、设备、种子与运行信息。"""

from __future__ import annotations

import pytest
import torch

import dlzh
from dlzh.config import ConfigError


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("DLZH_PROFILE", "full")
    assert dlzh.get_profile() == "full" and dlzh.pick(1, 2) == 2
    monkeypatch.setenv("DLZH_PROFILE", " Quick ")
    assert dlzh.get_profile() == "quick" and dlzh.pick(1, 2) == 1


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv("DLZH_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dlzh.get_profile() == "quick"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dlzh.get_profile() == "full"


def test_invalid_profile_has_bilingual_message(monkeypatch):
    monkeypatch.setenv("DLZH_PROFILE", "fast")
    with pytest.raises(ConfigError, match=r"quick.*full") as info:
        dlzh.get_profile()
    assert "无效" in str(info.value) and "invalid" in str(info.value)


def test_device_selection(monkeypatch):
    assert dlzh.get_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="CUDA"):
        dlzh.get_device("cuda")
    with pytest.raises(ConfigError, match="无法识别"):
        dlzh.get_device("tpu9")


def test_set_seed_is_reproducible():
    dlzh.set_seed(123)
    a = torch.rand(3)
    g = dlzh.set_seed(123)
    assert torch.equal(a, torch.rand(3))
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=dlzh.set_seed(123)))


def test_run_info_reports_profile_and_time(monkeypatch, capsys):
    monkeypatch.setenv("DLZH_PROFILE", "quick")
    info = dlzh.run_info()
    out = capsys.readouterr().out
    assert info.profile == "quick" and info.wall_time_s >= 0
    assert "档位 quick" in out and torch.__version__ in out and "本页用时" in out
