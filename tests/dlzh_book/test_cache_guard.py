"""执行缓存的键：受 git 管理的内容、锁文件与运行环境；键变了只清空这一份缓存。"""

from __future__ import annotations

import json
import subprocess

from dlzh_book.cache_guard import (
    DocKeys,
    cache_key_parts,
    digest_of,
    doc_key,
    flavour,
    package_hashes,
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
    first = package_hashes([pkg])
    assert list(first) == ["pkg/a.py"]
    (pkg / ".a.py.swp").write_bytes(b"swap")  # 编辑器的交换文件
    (pkg / "draft.py").write_text("y = 2\n")  # 未跟踪的草稿
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert tracked_files(pkg) == [pkg / "a.py"]
    assert package_hashes([pkg]) == first
    (pkg / "a.py").write_text("x = 2\n")  # 已跟踪文件的未提交修改也算
    assert package_hashes([pkg]) != first


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
    base = cache_key_parts({}, [lock], FACTS)
    lock.write_text("torch==2.15.0\n")
    assert cache_key_parts({}, [lock], FACTS)["locks"] != base["locks"]
    for key, value in [("device", "cuda"), ("cuda", "12.8"), ("smoke", "1"), ("torch", "2.15")]:
        other = cache_key_parts({}, [], {**FACTS, key: value})
        assert digest_of(other) != digest_of(cache_key_parts({}, [], FACTS))
    # 包里的 Python 模块按页计入；其他文件（如数据登记表）计入整份缓存的键
    code = {"dlzh/a.py": "1"}
    assert cache_key_parts(code, [], FACTS) == cache_key_parts({"dlzh/a.py": "2"}, [], FACTS)
    data = cache_key_parts({**code, "dlzh/data/registry.json": "1"}, [], FACTS)
    assert data != cache_key_parts({**code, "dlzh/data/registry.json": "2"}, [], FACTS)
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


HASHES = {
    "dlzh/__init__.py": "i",
    "dlzh/optim/__init__.py": "o",
    "dlzh/optim/scratch.py": "s",
    "dlzh/models/lenet.py": "l",
}


def test_a_page_key_depends_only_on_the_modules_it_imported():
    optim_page = ["dlzh", "dlzh.optim", "dlzh.optim.scratch"]
    cnn_page = ["dlzh", "dlzh.models.lenet"]
    edited = {**HASHES, "dlzh/optim/scratch.py": "s2"}
    assert doc_key("k", HASHES, optim_page) != doc_key("k", edited, optim_page)
    assert doc_key("k", HASHES, cnn_page) == doc_key("k", edited, cnn_page)
    # 不知道导入了什么的页面依赖所有模块；整份缓存的键也在每页的键里
    assert doc_key("k", HASHES, None) != doc_key("k", edited, None)
    assert doc_key("k", HASHES, cnn_page) != doc_key("k2", HASHES, cnn_page)
    # 导入过的模块被删掉或改名也算变化
    renamed = {k: v for k, v in HASHES.items() if k != "dlzh/models/lenet.py"}
    assert doc_key("k", HASHES, cnn_page) != doc_key("k", renamed, cnn_page)


def test_doc_keys_report_only_the_pages_whose_modules_changed(tmp_path):
    keys = DocKeys(tmp_path / "keys.json")
    optim, cnn = str(tmp_path / "optim.md"), str(tmp_path / "cnn.md")
    keys.set(optim, ["dlzh.optim.scratch"], doc_key("k", HASHES, ["dlzh.optim.scratch"]))
    keys.set(cnn, ["dlzh.models.lenet"], doc_key("k", HASHES, ["dlzh.models.lenet"]))
    keys.save()
    keys = DocKeys(tmp_path / "keys.json")  # 从文件读回
    assert keys.outdated("k", HASHES) == set()
    assert keys.outdated("k", {**HASHES, "dlzh/optim/scratch.py": "s2"}) == {optim}
    keys.invalidate(tmp_path / "no-cache", {optim})
    assert set(DocKeys(tmp_path / "keys.json").entries) == {cnn}


def test_what_a_cnn_page_uses_does_not_import_dlzh_optim():
    """按页的键只有在 import dlzh 不导入全部子包时才有用：CNN 各页用到的部分不导入 dlzh.optim，
    所以改 dlzh.optim 只重新执行优化一部分的页面，不会重新执行 cnn/ 的页面。"""
    import subprocess
    import sys

    code = (
        "import sys, dlzh\n"
        "dlzh.start_page, dlzh.settings, dlzh.run_info\n"
        "import dlzh.data, dlzh.models, dlzh.train, dlzh.plot\n"
        "info = dlzh.run_info(show=False)\n"
        "assert 'dlzh.models.lenet' in info.modules, info.modules\n"
        "sys.exit(1 if any(m.startswith('dlzh.optim') for m in info.modules) else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
