"""有问题的页面：警告记录的保留规则、失败页面的错误摘要、警告归属到哪个页面。"""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

from dlzh_book import problems


def test_warned_pages_are_kept_until_re_read_cleanly(tmp_path):
    assert problems.load_warned(tmp_path) == set()
    assert problems.save_warned(tmp_path, read_now={"a", "b"}, warned_now={"a"}) == {"a"}
    # 没有重新读取 a（例如构建在别处中止）：记录保留
    assert problems.save_warned(tmp_path, read_now={"b"}, warned_now=set()) == {"a"}
    # 重新读取后干净了：记录清除；写出阶段才警告的页面（如引用）也记下
    assert problems.save_warned(tmp_path, read_now={"a"}, warned_now={"c"}) == {"c"}
    assert problems.load_warned(tmp_path) == {"c"}


def test_error_summary_keeps_the_tail_without_terminal_colours():
    traceback = "\n".join(f"line {i}" for i in range(30)) + "\n\x1b[31mValueError\x1b[0m: 坏了"
    summary = problems.error_summary({"traceback": traceback, "error": "CellExecutionError"})
    assert summary.endswith("ValueError: 坏了") and "line 0\n" not in summary
    assert "\x1b" not in summary and len(summary.splitlines()) == 12
    assert problems.error_summary({"error": "CellExecutionError"}) == "CellExecutionError"


def _fake_app(suppress=()):
    docs = {"intro", "cnn/lenet"}
    env = SimpleNamespace(
        all_docs=dict.fromkeys(docs),
        found_docs=docs,
        temp_data={"docname": "intro"},
        path2doc=lambda path: "cnn/lenet" if path.endswith("cnn/lenet.md") else None,
        doc2path=lambda doc: f"/book/{doc}.md",
    )
    return SimpleNamespace(env=env, config=SimpleNamespace(suppress_warnings=list(suppress)))


def _record(location, type_=None, subtype=None):
    record = logging.LogRecord("sphinx.x", logging.WARNING, "", 0, "msg", None, None)
    record.location, record.type, record.subtype = location, type_, subtype
    return record


def test_warnings_are_attributed_to_pages():
    recorder = problems.WarningRecorder(_fake_app(suppress=["mystnb.unknown_mime_type"]))
    assert recorder.docname_of(_record(("cnn/lenet", 3))) == "cnn/lenet"
    assert recorder.docname_of(_record("/book/cnn/lenet.md:12")) == "cnn/lenet"
    assert recorder.docname_of(_record(None)) == "intro"  # 正在处理的页面
    recorder.emit(_record("cnn/lenet", "mystnb", "unknown_mime_type"))  # 被 suppress_warnings 压下
    assert recorder.docs == set()
    recorder.emit(_record("cnn/lenet"))
    assert recorder.docs == {"cnn/lenet"}


def test_failures_are_listed_with_their_pages():
    app = _fake_app()
    app.env.nb_metadata = {
        "cnn/lenet": {"exec_data": {"succeeded": False, "traceback": "KeyError: 'x'"}},
        "intro": {"exec_data": {"succeeded": True}},
        "removed": {"exec_data": {"succeeded": False}},
    }
    failed = problems.failed_pages(app.env)
    assert [d for d, _ in failed] == ["cnn/lenet"]
    stream = io.StringIO()
    problems.print_failures(app, failed, stream)
    assert "/book/cnn/lenet.md" in stream.getvalue() and "KeyError: 'x'" in stream.getvalue()
