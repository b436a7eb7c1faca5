"""浏览器测试：在 Chromium 里打开构建好的网站（book/_build/html），检查读者真正看到的东西。

`make browser`（`pytest -m browser`）在整书构建之后运行。网站由本模块在 127.0.0.1 的随机端口上
用 http.server 提供；浏览器由 Playwright 驱动，但用的是系统的 Chromium（环境变量 DLZH_CHROMIUM，
未设置时 /usr/bin/chromium），不下载 Playwright 自带的浏览器。网站没有构建或找不到浏览器时跳过。

每个页面上收集控制台错误（console.error，包括加载失败的资源）和未捕获的异常，一条也不忽略；
同时记录对 127.0.0.1 以外主机的请求：本书不依赖任何 CDN（MathJax 也在本地），所以一条也不该有。
截图保存在 artifacts/screenshots/（CI 上传为 artifact），浅色和深色模式各一张。
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import yaml
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("DLZH_CHROMIUM", "/usr/bin/chromium")
# 没有这些开关，Chromium 会在启动时访问 Google 的各种服务（这里的网络是封闭的，只会产生噪声）。
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CJK = re.compile(r"[\u4e00-\u9fff]")
TRACEBACK = "Traceback (most recent call last)"


def _chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="没有安装 playwright（pip install -e '.[test]'）"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (HTML / "index.html").exists(), reason="网站还没有构建：先运行 make book"
    ),
    pytest.mark.skipif(
        not _chromium_available(),
        reason=f"找不到 Chromium（{CHROMIUM}）：安装 chromium，或用 DLZH_CHROMIUM 指定浏览器",
    ),
]


# ---------------------------------------------------------------- 书的结构


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def source_title(docname: str) -> str:
    """页面源文件里的一级标题（跳过 front matter）。"""
    text = (BOOK / f"{docname}.md").read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("\n---", 1)[1]
    match = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    assert match, f"{docname}.md 没有一级标题"
    return match[1].strip()


def screenshot_pages() -> list[str]:
    """首页、一个训练页，以及技巧页（还没有时用术语表）。"""
    tips = [f for f in toc_files() if "tips" in f or "tricks" in f]
    return ["index", "linear-networks/softmax-regression", tips[0] if tips else "glossary"]


def edge_brightness(image: Image.Image) -> list[float]:
    """灰度图四条边（各占短边的 6%）的亮度中位数：上、下、左、右。"""
    w, h = image.size
    b = max(2, int(min(w, h) * 0.06))
    boxes = [(0, 0, w, b), (0, h - b, w, h), (0, 0, b, h), (w - b, 0, w, h)]
    return [ImageStat.Stat(image.crop(box)).median[0] for box in boxes]


# ---------------------------------------------------------------- 夹具


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # 不把每个请求都打印到测试输出里
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Tab:
    """一个标签页，外加它的控制台错误、未捕获异常和对外部主机的请求。"""

    def __init__(self, browser, site: str) -> None:
        self.site = site
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))
        self.page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.errors.append(f"{self.page.url}: {message.text} ({where})")

    def _on_request(self, request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("http://", "https://")) and host != "127.0.0.1":
            self.external.append(request.url)

    def goto(self, path: str):
        response = self.page.goto(self.site + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: {response}"
        return response

    def h1(self) -> str:
        return self.page.locator("main h1, article h1").first.inner_text().rstrip("#").strip()

    def assert_clean(self) -> None:
        assert self.errors == [], "控制台错误：\n" + "\n".join(self.errors)
        assert self.external == [], f"请求了外部主机（本书不应依赖 CDN）：{self.external}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, site) -> Iterator[Tab]:
    tab = Tab(browser, site)
    yield tab
    tab.close()


# ---------------------------------------------------------------- 测试


def test_home_and_chapter_indexes_show_their_chinese_titles(tab):
    pages = ["index"] + [f for f in toc_files() if f.endswith("/index")]
    assert len(pages) > 1, "_toc.yml 里没有章节首页（*/index）？"
    for docname in pages:
        tab.goto(f"{docname}.html")
        title = tab.h1()
        assert CJK.search(title), f"{docname}: 标题不是中文：{title!r}"
        assert title == source_title(docname), docname
    tab.assert_clean()


def test_every_sidebar_link_opens_a_complete_page(tab):
    """首页侧边栏的每个链接都打开一个页面（HTTP 200、有标题），侧边栏覆盖目录里的每一页；
    顺便检查每页的图都加载出来、公式都排好版、没有显示 Python 异常（每页只打开一次，省时间）。"""
    tab.goto("index.html")
    links = tab.page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference.internal", "els => els.map(a => a.href.split('#')[0])"
    )
    pages = {urlparse(link).path.lstrip("/").removesuffix(".html") for link in links}
    missing = set(toc_files()) - pages - {"index"}
    assert missing == set(), f"侧边栏缺少这些页面：{sorted(missing)}"
    for link in [tab.site + "index.html", *sorted(set(links))]:
        response = tab.page.goto(link, wait_until="load")
        assert response is not None and response.status == 200, link
        assert tab.h1(), f"{link} 没有标题"
        check_page_content(tab.page, link)
    tab.assert_clean()


# 判断一张图是否空白：画到画布上（同源图片，不会污染画布），缩到 64×64，算灰度的标准差。
# 一张有内容的图（示意图、曲线）远大于这个阈值；纯白、纯黑或透明的图接近 0。
BLANK_STD = 3.0
IMAGE_STATS_JS = """async () => {
    const imgs = Array.from(document.images);
    for (const img of imgs) img.loading = "eager";
    await Promise.all(imgs.map(img => img.decode().catch(() => null)));
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    return imgs.map(img => {
        if (img.naturalWidth === 0) return {src: img.src, loaded: false, std: 0};
        ctx.fillStyle = "white";
        ctx.fillRect(0, 0, 64, 64);
        ctx.drawImage(img, 0, 0, 64, 64);
        const data = ctx.getImageData(0, 0, 64, 64).data;
        let sum = 0, sq = 0;
        for (let i = 0; i < data.length; i += 4) {
            const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
            sum += y; sq += y * y;
        }
        const n = data.length / 4, mean = sum / n;
        return {src: img.src, loaded: true, std: Math.sqrt(Math.max(sq / n - mean * mean, 0)),
                cell: !!img.closest(".cell_output")};
    });
}"""


def check_page_content(page, where: str) -> list[dict]:
    """页面的图都加载出来、没有空白的图、公式排好版、没有 Python 异常；返回各图的统计。"""
    # 懒加载的图片也要真的加载出来：改成立即加载，再等它解码完成。
    images = page.evaluate(IMAGE_STATS_JS)
    broken = [i["src"] for i in images if not i["loaded"]]
    assert broken == [], f"{where}: 这些图片没有加载出来：{broken}"
    blank = [f"{i['src']}（标准差 {i['std']:.2f}）" for i in images if i["std"] < BLANK_STD]
    assert blank == [], f"{where}: 这些图片是空白的：{blank}"
    if page.locator(".math").count():
        page.wait_for_selector("mjx-container", state="attached")
        errors = page.evaluate(
            "() => Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent)"
        )
        assert errors == [], f"{where}: MathJax 排版出错：{errors}"
    assert TRACEBACK not in page.inner_text("body"), f"{where} 显示了 Python 异常"
    return images


SEARCHES = [
    # 术语表里的复合词整体输入（不加空格），结果里必须有这些页面。
    ("梯度下降", "glossary"),
    ("线性回归", "linear-networks/linear-regression"),
    ("交叉熵损失", "linear-networks/softmax-regression"),
    ("自动微分", "math/autograd"),
    # 批量归一化的正文页面以后才写；现在至少要搜到术语表。
    ("批量归一化", "glossary"),
]


def search_results(tab, term: str) -> set[str]:
    """在网站的搜索页输入 ``term``（整体作为一个词），返回结果里的页面名。"""
    tab.goto(f"search.html?q={quote(term)}")
    tab.page.wait_for_function(
        "() => (document.querySelector('#search-results p.search-summary') || {}).innerText"
    )
    hrefs = tab.page.eval_on_selector_all(
        "#search-results ul.search li > a", "els => els.map(a => a.getAttribute('href'))"
    )
    return {re.split(r"[?#]", h)[0].removesuffix(".html") for h in hrefs}


@pytest.mark.parametrize(("term", "expected"), SEARCHES, ids=[t for t, _ in SEARCHES])
def test_search_finds_glossary_terms_typed_as_one_word(tab, term, expected):
    found = search_results(tab, term)
    assert expected in found, f"搜索“{term}”的结果里没有 {expected}：{sorted(found)}"
    tab.assert_clean()


# 按同义词搜索（issue 11）：读者输入自己熟悉的写法。每个例子的页面**只用另一种写法**
# （或两种都用），所以只有术语表的别名在搜索索引里起作用时，它才会出现在结果里。
ALIAS_SEARCHES = [
    ("池化", "modern-cnn/alexnet"),  # 页面只写“汇聚”
    ("汇聚", "cnn/pooling"),
    ("规范化", "modern-cnn/batch-norm"),  # 页面只写“归一化”
    ("归一化", "modern-cnn/batch-norm"),
    ("梯度累积", "tips/distributed"),  # 页面只写“梯度累加”
    ("梯度累加", "tips/distributed"),
    ("全局平均池化", "modern-cnn/nin"),  # 页面只写“全局平均汇聚”
    ("全局平均汇聚", "modern-cnn/nin"),
    ("epoch", "mlp/model-construction"),  # 页面只写“迭代周期”
    ("迭代周期", "mlp/model-construction"),
    ("混合精度", "tips/mixed-precision"),
]


@pytest.mark.parametrize(("term", "expected"), ALIAS_SEARCHES, ids=[t for t, _ in ALIAS_SEARCHES])
def test_search_finds_pages_by_any_alias(tab, term, expected):
    found = search_results(tab, term)
    assert expected in found, f"搜索别名“{term}”的结果里没有 {expected}：{sorted(found)}"
    tab.assert_clean()


def test_alias_examples_really_need_the_aliases():
    """上面的例子要能失败：标了“只写另一种写法”的页面确实不含被搜索的写法。"""
    for term, page in ALIAS_SEARCHES:
        text = (BOOK / f"{page}.md").read_text(encoding="utf-8").lower()
        if term in {"池化", "规范化", "梯度累积", "全局平均池化", "epoch"}:
            assert term not in text, f"{page}.md 含有“{term}”，这个例子测不出别名是否生效"


def _diagram_pages() -> list[str]:
    """所有用 ``fig = diagrams.名字(...)`` 画了示意图的页面（新页面自动加入检查）。"""
    pages = []
    for path in sorted(BOOK.rglob("*.md")):
        if "_build" in path.parts or "_templates" in path.parts:
            continue
        if re.search(r"^fig = diagrams\.\w+\(", path.read_text(encoding="utf-8"), re.MULTILINE):
            pages.append(path.relative_to(BOOK).with_suffix("").as_posix())
    return pages


DIAGRAM_PAGES = _diagram_pages()


def test_diagram_pages_include_every_part():
    """上面的自动收集确实找到了各部分的示意图页（收集规则写错时这里会失败）。"""
    parts = {page.split("/")[0] for page in DIAGRAM_PAGES}
    assert {"cnn", "modern-cnn", "rnn", "modern-rnn", "attention", "cv", "diffusion",
            "federated"} <= parts  # fmt: skip


@pytest.mark.parametrize("docname", DIAGRAM_PAGES)
def test_diagram_pages_show_their_diagrams(tab, docname):
    """每个放了示意图的页面：源文件里的每个 diagrams 调用在网页上都是一张加载出来、不空白的图。"""
    source = (BOOK / f"{docname}.md").read_text(encoding="utf-8")
    calls = re.findall(r"^fig = diagrams\.\w+\(", source, flags=re.MULTILINE)
    assert calls, f"{docname}.md 里没有 dlzh.plot.diagrams 的示意图"
    tab.goto(f"{docname}.html")
    images = check_page_content(tab.page, docname)
    figures = [i for i in images if i.get("cell")]
    assert len(figures) >= len(calls), (
        f"{docname}: 只有 {len(figures)} 张图，应至少 {len(calls)} 张"
    )
    tab.assert_clean()


def test_math_is_typeset_by_the_local_mathjax(tab):
    scripts: list[str] = []
    tab.page.on("request", lambda r: scripts.append(r.url) if "mathjax" in r.url else None)
    tab.goto("math/autograd.html")
    tab.page.wait_for_selector("mjx-container", state="attached")
    assert tab.page.locator("mjx-container").count() > 0
    # MathJax 和它的字体都来自本站的 _static/mathjax/。
    assert scripts and all(urlparse(u).path.startswith("/_static/mathjax/") for u in scripts)
    html = (HTML / "math" / "autograd.html").read_text(encoding="utf-8")
    assert not re.search(
        r"(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)[^\"']*mathjax", html
    )
    tab.assert_clean()


def test_code_pages_offer_the_executed_notebook_and_colab(tab):
    tab.goto("linear-networks/softmax-regression.html")
    download = tab.page.locator("a.btn-download-executed-notebook-button")
    href = download.get_attribute("href")
    assert href and href.endswith("_notebooks/linear-networks/softmax-regression.ipynb")
    response = tab.page.request.get(tab.page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.status == 200
    notebook = json.loads(response.body())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert outputs, "下载的笔记本里没有输出：它应该是执行过的版本"
    colab = tab.page.locator("a.btn-colab-button").get_attribute("href")
    assert colab and colab.startswith("https://colab.research.google.com/github/")
    assert colab.endswith("/linear-networks/softmax-regression.ipynb")
    # 没有代码单元的页面不显示这两个按钮。
    tab.goto("glossary.html")
    assert tab.page.locator("a.btn-download-executed-notebook-button").count() == 0
    assert tab.page.locator("a.btn-colab-button").count() == 0
    tab.assert_clean()


def test_404_page_is_self_contained(tab):
    tab.goto("404.html")
    assert "404" in tab.page.locator("h1").inner_text()
    hrefs = tab.page.eval_on_selector_all("a", "els => els.map(a => a.getAttribute('href'))")
    assert any(h.endswith("index.html") for h in hrefs)
    assert any(h.endswith("search.html") for h in hrefs)
    # 只有页面本身：样式是内联的，GitHub Pages 在任意深度返回它也不会缺资源。
    assert tab.page.evaluate("() => performance.getEntriesByType('resource').length") == 0
    tab.assert_clean()


@pytest.mark.parametrize("docname", screenshot_pages())
def test_screenshots_light_and_dark(browser, site, docname):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = docname.replace("/", "-")
    tab = Tab(browser, site)
    try:
        tab.goto(f"{docname}.html")
        tab.page.screenshot(path=SCREENSHOTS / f"{name}-light.png", full_page=True)
        # pydata-sphinx-theme 在 <head> 里按 localStorage 的 mode/theme 设定主题。
        tab.page.evaluate(
            """() => {
                localStorage.setItem("mode", "dark");
                localStorage.setItem("theme", "dark");
                document.documentElement.dataset.theme = "dark";
            }"""
        )
        tab.page.reload(wait_until="load")
        assert tab.page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        # 深色模式下图的底色必须仍然是浅色（黑色的坐标轴文字才看得清，pitfalls #9）：直接看渲染
        # 出来的像素。图的四条边（留白、标题、坐标轴外）应该是浅色；图像网格里的缩略图本身可以是暗的，
        # 所以不看整张图的平均亮度。透明背景的图放在深色页面上，边缘的亮度只有几十。
        shot = tab.page.screenshot(path=SCREENSHOTS / f"{name}-dark.png", full_page=True)
        boxes = tab.page.eval_on_selector_all(
            ".cell_output img, figure img",
            """els => els.map(e => {
                const r = e.getBoundingClientRect();
                return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY];
            })""",
        )
        if docname == "linear-networks/softmax-regression":
            assert boxes, "训练页上应该有图"
        page_image = Image.open(io.BytesIO(shot)).convert("L")
        for i, box in enumerate(boxes):
            edges = edge_brightness(page_image.crop(tuple(round(v) for v in box)))
            assert min(edges) > 150, f"{docname} 第 {i + 1} 张图在深色模式下边缘太暗：{edges}"
        tab.assert_clean()
    finally:
        tab.close()
