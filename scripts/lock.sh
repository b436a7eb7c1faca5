#!/usr/bin/env bash
# 由 pyproject.toml 生成锁文件 requirements/constraints.txt（`make lock` 调用它）。
#
# - 解析器是 uv（pyproject.toml 的 dev 依赖）：--universal 生成一份适用于所有平台和
#   Python >= 3.11 的锁（用环境标记区分平台），--generate-hashes 为每个文件写上 sha256，
#   scripts/setup-env.sh 用 pip --require-hashes 安装，下载的文件与锁里的哈希不符就拒绝安装。
# - pyproject.toml 只写版本范围；PyTorch 的确切版本由 requirements/torch.in 决定。
# - 只从 PyPI 解析（不读 pip.conf 里的其他索引），所以锁里的哈希就是 PyPI 上文件的哈希。
# - 生成后逐个检查 Python 3.11、3.12、3.13 在 Linux、macOS（Apple 芯片）、Windows 上
#   都能用锁里的版本解析成功（PyTorch 只为这些组合发布 wheel），有一个失败就报错退出。
#
# Regenerates the hashed universal lock from pyproject.toml with uv, then checks that the locked
# versions resolve for every supported Python/platform.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=(.venv/bin/python -m uv)
if ! "${UV[@]}" --version >/dev/null 2>&1 && command -v uv >/dev/null 2>&1; then
  UV=(uv) # 还没有 .venv（或其中没有 uv）时用 PATH 上的 uv
fi
INDEX=https://pypi.org/simple
LOCK=requirements/constraints.txt
# setup-env.sh 接受的 Python 版本；与这里检查的版本保持一致。
PYTHONS=(3.11 3.12 3.13)
# PyTorch 2.14 的 macOS wheel 要求 macOS 14 以上。
PLATFORMS=(x86_64-manylinux_2_28 aarch64-manylinux_2_28 aarch64-apple-darwin x86_64-pc-windows-msvc)
export MACOSX_DEPLOYMENT_TARGET=14.0

if ! "${UV[@]}" --version >/dev/null 2>&1; then
  echo "找不到 uv：运行 .venv/bin/pip install -e '.[dev]'（或 pip install uv）后重试。" >&2
  echo "uv not found: install the dev extra (.venv/bin/pip install -e '.[dev]')." >&2
  exit 1
fi

echo ">>> uv pip compile → ${LOCK}"
"${UV[@]}" pip compile pyproject.toml \
  --all-extras --universal --python-version "${PYTHONS[0]}" \
  --generate-hashes --default-index "$INDEX" \
  --constraint requirements/torch.in \
  --custom-compile-command "make lock" \
  --quiet --output-file "$LOCK"

status=0
for py in "${PYTHONS[@]}"; do
  for platform in "${PLATFORMS[@]}"; do
    if out=$("${UV[@]}" pip compile pyproject.toml --all-extras --quiet --no-header \
      --default-index "$INDEX" --constraint "$LOCK" \
      --python-version "$py" --python-platform "$platform" 2>&1); then
      echo "    Python ${py} ${platform}: OK"
    else
      echo "锁文件在 Python ${py} / ${platform} 上无法解析 / lock does not resolve there:" >&2
      echo "$out" >&2
      status=1
    fi
  done
done
exit "$status"
