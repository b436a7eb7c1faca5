"""同时执行几页的设置（dlzh_book.parallel）；真正的并行构建在 test_throwaway_book 里。"""

from __future__ import annotations

import pytest

from dlzh_book.parallel import ParallelRead, choose_jobs, kernel_threads, one_page_chunks


@pytest.mark.parametrize(
    ("value", "device", "cpus", "expected"),
    [
        (None, "cpu", 2, 2),
        ("auto", "cpu", 16, 4),  # 自动最多 4 页：内存和下载都不随核数无限增长
        ("", "cpu", None, 1),
        ("auto", "cuda", 16, 1),  # 一块 GPU：一页一页来
        ("3", "cuda", 2, 3),  # 明确给出的数字照办
        (" 1 ", "cpu", 8, 1),
    ],
)
def test_jobs(value, device, cpus, expected):
    assert choose_jobs(value, device, cpus) == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_jobs_value_names_the_variable_and_the_fix(value):
    with pytest.raises(ValueError, match=r"DLZH_BUILD_JOBS.*正整数"):
        choose_jobs(value, "cpu", 2)


def test_kernels_share_the_cores():
    assert kernel_threads(2, 2) == 1
    assert kernel_threads(4, 16) == 4
    assert kernel_threads(4, 2) == 1


def test_one_page_per_chunk_keeps_every_page_once():
    names = [f"part/page{i}" for i in range(23)]
    chunks = one_page_chunks(names, 2)
    assert [c for chunk in chunks for c in chunk] == names
    assert all(len(chunk) == 1 for chunk in chunks)


def test_kernel_threads_are_limited_only_when_pages_run_together():
    environ: dict[str, str] = {}
    ParallelRead(1).configure_kernels(environ)
    assert environ == {}
    ParallelRead(2).configure_kernels(environ)
    assert int(environ["OMP_NUM_THREADS"]) >= 1
    environ = {"OMP_NUM_THREADS": "6"}  # 读者自己设的不动
    ParallelRead(2).configure_kernels(environ)
    assert environ["OMP_NUM_THREADS"] == "6"
