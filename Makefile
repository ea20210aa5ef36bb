# The two commands of d2l-rs (see README.md). Both do all set-up themselves.
SHELL := /bin/bash
CACHE ?= $(or $(D2L_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/d2l-rs)
PY := $(CACHE)/py/bin/python

.PHONY: setup book book-offline test bench-python
setup:
	scripts/setup

# Builds the book from notebooks/ (HTML, notebooks, PDF, the d2l crate check, and the d2l API
# reference under api/ of the site, which the tools appendix links to).
book: setup
	cargo build --workspace --bins
	cargo run --bin d2l-book -- build all
	scripts/api-docs

# The book as CI builds it, offline: the data hub's small files come from ../shared/data into a
# cache, Fashion-MNIST is the labelled synthetic stand-in, the hub URL is unreachable (nothing is
# downloaded), training is scaled down to a tenth (D2L_SCALE: fewer epochs and examples, same
# models), and evaluated outputs are stored outside the clone, so an unchanged notebook is not
# run again. Every cell must run and every reference resolve (--warning-is-error).
SHARED_DATA ?= $(or $(D2L_SHARED_DATA),$(CURDIR)/../shared/data)
# Two notebooks run at once (-j 2), so each libtorch gets one thread: two-thread OpenMP teams
# that share two cores spin-wait for each other (an epoch measured 25.8 s instead of 0.6 s).
OFFLINE_ENV := D2L_DATA_DIR=$(CACHE)/offline-data D2L_DATA_URL=http://127.0.0.1:9/ D2L_SCALE=0.1 \
	D2L_FASHION_MNIST=synthetic D2L_FRA_ENG=synthetic D2L_EVAL_STORE=$(CACHE)/eval-store OMP_NUM_THREADS=1
book-offline: setup
	mkdir -p $(CACHE)/offline-data
	cp -u $(SHARED_DATA)/*.csv $(SHARED_DATA)/*.txt $(SHARED_DATA)/*.dat $(CACHE)/offline-data/
	cargo build --workspace --bins
	$(OFFLINE_ENV) cargo run -q --bin d2l-book -- build all --warning-is-error -j 2
	scripts/api-docs

# Binaries run with `cargo run --bin NAME`, not `-p PACKAGE`: `-p` resolves the dependencies'
# features for that one package, which differ from the workspace build's, and cargo would build
# typst and its dependencies a second time (about 6 minutes cold).
# Runs the whole test suite: the formatting and lint gates (rustfmt.toml; clippy with every
# warning an error), Rust unit, integration and doc tests, the crate-vs-book check, the check
# that vendor/evcxr is the published evcxr plus its patch file (and the unit tests of its
# patches 7 to 10), the offline book build with every cell executed, then the real-client
# kernel tests.
test: setup
	cargo fmt --all --check
	cargo build --workspace --bins
	cargo clippy --workspace --all-targets -q -- -D warnings
	cargo test --workspace --no-fail-fast
	cargo run -q --bin d2l-book -- build lib --check
	scripts/check-vendored-evcxr
	cargo test -q -p evcxr --lib -- module::replay rust_analyzer::test::only_a_top_level_let rust_analyzer::test::let_names analysis_scope
	$(MAKE) --no-print-directory book-offline
	$(PY) -m pytest tests/python -q

# Benchmark (not part of the tests): the book's Trainer in Rust against d2l 1.0.3 on the same
# libtorch, one epoch each of softmax regression, an MLP and LeNet (d2l/benches/vs_python.rs).
bench-python: setup
	scripts/bench-setup
	cargo bench -p d2l --bench vs_python
