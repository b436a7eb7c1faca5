"""执行缓存的键：受 git 管理的内容、锁文件与运行环境；键变了只清空这一份缓存。"""

from __future__ import annotations

import json
import subprocess

from dlzh_book.cache_guard import (
    cache_key_parts,
    digest_of,
    flavour,
    sync_cache,
    tracked_files,
)

FACTS = {"torch": "2.14.1", "cuda": "none", "device": "cpu", "profile": "quick", "smoke": "0"}


def _git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def test_key_ignores_untracked_swap_files_but_not_tracked_edits(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "pkg/a.py")
    first = cache_key_parts([pkg], [], FACTS)
    (pkg / ".a.py.swp").write_bytes(b"swap")  # 编辑器的交换文件
    (pkg / "draft.py").write_text("y = 2\n")  # 未跟踪的草稿
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert tracked_files(pkg) == [pkg / "a.py"]
    assert cache_key_parts([pkg], [], FACTS) == first
    (pkg / "a.py").write_text("x = 2\n")  # 已跟踪文件的未提交修改也算
    assert cache_key_parts([pkg], [], FACTS)["package"] != first["package"]


def test_without_git_junk_files_are_skipped_by_name(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "sub" / "m.py").write_text("v = 1\n")
    (pkg / "data.json").write_text("{}")
    for junk in (".m.py.swp", "m.py~", "#m.py#"):
        (pkg / "sub" / junk).write_text("junk")
    assert tracked_files(pkg) == [pkg / "data.json", pkg / "sub" / "m.py"]


def test_key_covers_locks_and_runtime(tmp_path):
    lock = tmp_path / "constraints.txt"
    lock.write_text("torch==2.14.1\n")
    base = cache_key_parts([], [lock], FACTS)
    lock.write_text("torch==2.15.0\n")
    assert cache_key_parts([], [lock], FACTS)["locks"] != base["locks"]
    for key, value in [("device", "cuda"), ("cuda", "12.8"), ("smoke", "1"), ("torch", "2.15")]:
        other = cache_key_parts([], [], {**FACTS, key: value})
        assert digest_of(other) != digest_of(cache_key_parts([], [], FACTS))
    assert flavour("full", smoke=True) == "full-smoke" and flavour("quick") == "quick"


def test_changed_key_wipes_this_cache_and_is_recorded_at_once(tmp_path):
    quick, full = tmp_path / "cache" / "quick", tmp_path / "cache" / "full"
    for cache in (quick, full):
        cache.mkdir(parents=True)
        (cache / "db").write_text("cached")
    stamp = tmp_path / "cache" / "dlzh-cache-key-quick.json"
    assert sync_cache(quick, stamp, FACTS) == sorted(FACTS)  # 第一次：没有印记
    assert not quick.exists() and (full / "db").exists()
    # 印记立即写下：这次构建即使失败，下次也不会再清空这次成功执行、已经缓存的页面。
    assert json.loads(stamp.read_text()) == FACTS
    quick.mkdir()
    (quick / "db").write_text("cached")
    assert sync_cache(quick, stamp, FACTS) == []
    assert (quick / "db").exists()
    assert sync_cache(quick, stamp, {**FACTS, "device": "cuda"}) == ["device"]
    assert not quick.exists()
