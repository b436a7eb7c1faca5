"""执行报告：本次执行与取自缓存的区分、从已执行的笔记本读出 run_info 的记录。"""

from __future__ import annotations

import json

from dlzh_book.report import RUN_INFO_KEY, page_runs, read_run_info


def _notebook(path, info):
    output = {"output_type": "display_data", "data": {"text/plain": "运行信息"}, "metadata": {}}
    if info is not None:
        output["metadata"][RUN_INFO_KEY] = info
    cells = [{"cell_type": "markdown", "source": "# t"}, {"cell_type": "code", "outputs": [output]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells}), "utf-8")


def test_run_info_record_matches_what_dlzh_writes(tmp_path):
    import dlzh.config

    assert RUN_INFO_KEY == dlzh.config.RUN_INFO_KEY
    info = dlzh.run_info(show=False).as_dict()
    assert info["peak_memory_mib"] > 0 and "dlzh.config" in info["modules"]
    _notebook(tmp_path / "a.ipynb", info)
    assert read_run_info(tmp_path / "a.ipynb") == info
    _notebook(tmp_path / "b.ipynb", None)
    assert read_run_info(tmp_path / "b.ipynb") is None
    assert read_run_info(tmp_path / "missing.ipynb") is None


def test_executed_now_only_when_read_in_this_build_after_it_started(tmp_path):
    started = 1_000_000.0
    outdir = tmp_path / "_build" / "html"
    info = {"profile": "full", "smoke": True, "device": "CPU", "peak_memory_mib": 812.4}
    _notebook(tmp_path / "_build" / "jupyter_execute" / "now.ipynb", info)
    meta = {
        "now": {"exec_data": {"succeeded": True, "mtime": started + 5, "runtime": 3.0}},
        # 本次读取了，但输出取自缓存（缓存记录早于构建开始）
        "cached": {"exec_data": {"succeeded": True, "mtime": started - 3600, "runtime": 9.0}},
        # 没有读取：Sphinx 沿用上次的环境
        "old": {"exec_data": {"succeeded": True, "mtime": started + 5, "runtime": 1.0}},
        "bad": {"exec_data": {"succeeded": False, "mtime": started + 1, "error": "ValueError"}},
        "text": {"exec_data": None},
        "gone": {"exec_data": {"succeeded": True, "mtime": started}},
    }
    runs = {
        r.docname: r
        for r in page_runs(
            meta, {"now", "cached", "old", "bad", "text"}, {"now", "cached", "bad"}, started, outdir
        )
    }
    assert set(runs) == {"now", "cached", "old", "bad"}
    assert [runs[d].source for d in ("now", "cached", "old")] == [
        "本次执行",
        "取自缓存",
        "取自缓存",
    ]
    assert runs["bad"].status == "失败" and runs["bad"].error == "ValueError"
    assert runs["now"].profile() == "full（冒烟）" and runs["now"].memory() == "812"
    assert runs["cached"].profile() == "-" and runs["cached"].memory() == "-"
