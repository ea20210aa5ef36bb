# The two commands of d2l-rs (see README.md). Both do all set-up themselves.
SHELL := /bin/bash
CACHE ?= $(or $(D2L_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/d2l-rs)
PY := $(CACHE)/py/bin/python

.PHONY: setup book test
setup:
	scripts/setup

# Builds the book from notebooks/ (HTML, notebooks, PDF, and the d2l crate check).
book: setup
	cargo build --workspace --bins
	cargo run -p d2l-book -- build all

# Runs the whole test suite: Rust unit, integration and doc tests, then the real-client tests.
test: setup
	cargo build --workspace --bins
	cargo test --workspace --no-fail-fast
	cargo run -q -p d2l-book -- build lib --check
	$(PY) -m pytest tests/python -q
