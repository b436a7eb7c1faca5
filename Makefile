# 《动手学深度学习笔记》的常用命令。README 中的两条命令是 `make book` 和 `make test`。
# 每个目标都会先运行 scripts/setup-env.sh：环境不存在就创建，已是最新就立即跳过。
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY := .venv/bin/python
PAGE ?=
PORT ?= 8000
# 书的构建工具 dlzh_book 在 code/ 下、不随 dlzh 安装，所以显式加入 PYTHONPATH。
BOOK := PYTHONPATH=code $(PY) -m dlzh_book.build

.PHONY: env book page test lint unit book-quick book-smoke book-tests browser serve clean lock bench

env:
	@bash scripts/setup-env.sh

## 构建整本书（HTML 在 book/_build/html）；档位由 DLZH_PROFILE 决定（无 GPU 时默认 quick）
book: env
	$(BOOK) book

## 只构建一页：make page P=linear-networks/softmax-regression.md
page: env
	$(BOOK) book --page $(P)

## 全部测试：lint + 单元测试 + quick 档位整书构建（警告即错误）+ full 档位冒烟构建
## + 书的结构/搜索测试 + 浏览器测试
test: env lint unit book-quick book-smoke book-tests browser

lint: env
	$(PY) -m ruff check code tests benchmarks
	$(PY) -m ruff format --check code tests benchmarks

unit: env
	$(PY) -m pytest -q -m "not book and not browser" tests

book-quick: env
	DLZH_PROFILE=quick $(BOOK) book

## full 档位的冒烟构建：full 的设置，但每个训练/评估循环只跑 2 个批量；输出和执行缓存都在
## book/_build/smoke/ 下，不覆盖 quick 档位的网站（浏览器测试用的是 book/_build/html）
book-smoke: env
	DLZH_PROFILE=full DLZH_SMOKE=1 $(BOOK) book --output book/_build/smoke

book-tests: env
	$(PY) -m pytest -q -m "book" tests

browser: env
	$(PY) -m pytest -q -m "browser" tests

## 在 http://127.0.0.1:8000 预览构建好的网站
serve:
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory book/_build/html

## 性能对比：dlzh 与 torchvision 管线各训练一个 epoch
bench: env
	$(PY) benchmarks/fashion_mnist_epoch.py

## 由 pyproject.toml 重新生成带哈希的锁文件 requirements/constraints.txt（uv，适用于所有平台和
## Python 3.11-3.13，并逐个检查能否解析）；改动依赖后运行，提交锁文件，再 make env 安装
## （不依赖 env：锁文件过期时 env 会失败，而 lock 正是用来修好它的）
lock:
	bash scripts/lock.sh

clean:
	rm -rf book/_build
