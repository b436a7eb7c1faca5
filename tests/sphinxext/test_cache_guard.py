"""执行缓存守卫：内容哈希、按档位失效。"""

from __future__ import annotations

from dlzh.sphinxext.cache_guard import (
    check_and_invalidate,
    profile_switched,
    tree_hash,
    write_stamp,
)


def test_tree_hash_tracks_content_not_mtime(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    first = tree_hash([pkg])
    (pkg / "a.py").write_text("x = 1\n")  # 只改时间戳
    assert tree_hash([pkg]) == first
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert tree_hash([pkg]) == first
    (pkg / "a.py").write_text("x = 2\n")
    assert tree_hash([pkg]) != first


def test_changed_package_wipes_only_that_profiles_cache(tmp_path):
    pkg, stamps = tmp_path / "pkg", tmp_path / "stamps"
    pkg.mkdir()
    (pkg / "m.py").write_text("v = 1\n")
    quick, full = tmp_path / "cache" / "quick", tmp_path / "cache" / "full"
    for cache in (quick, full):
        cache.mkdir(parents=True)
        (cache / "db").write_text("cached")
    changed, digest = check_and_invalidate([pkg], quick, stamps, "quick")
    assert changed  # 第一次：没有印记
    write_stamp(stamps, digest, "quick")
    quick.mkdir(parents=True, exist_ok=True)
    (quick / "db").write_text("cached")
    assert check_and_invalidate([pkg], quick, stamps, "quick")[0] is False
    assert (quick / "db").exists()
    (pkg / "m.py").write_text("v = 2\n")
    assert check_and_invalidate([pkg], quick, stamps, "quick")[0] is True
    assert not quick.exists() and (full / "db").exists()


def test_profile_switch_is_detected(tmp_path):
    write_stamp(tmp_path, "abc", "quick")
    assert not profile_switched(tmp_path, "quick")
    assert profile_switched(tmp_path, "full")
