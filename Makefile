# hubcensus — `make help` lists the targets. Every target that needs Postgres gets one from
# scripts/pg.sh: $DATABASE_URL when it answers, otherwise a throwaway cluster under target/pg.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
PG := scripts/pg.sh
NEXTEST := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo yes)
# ISA-L's inflate (1.4x zlib on gzip layers) when the library is installed — `deps` installs it
# when root — else the pure-Rust zlib-rs build a bare `cargo build` makes (decision 0002).
# Recursive (=): probed when a recipe runs, after `deps`.
FEATURES = $(shell scripts/deps.sh --probe && echo --features hubcensus-gzip/isal)

.PHONY: help deps build test accuracy lint fmt bench fuzz demo demo-sample db db-stop doc clean

FUZZ_SECONDS ?= 600

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install ISA-L (the fast gzip decoder, optional) when missing and root
	@scripts/deps.sh

build: deps ## Build the release binaries (target/release/hubcensus)
	$(CARGO) build --release --locked --bins $(FEATURES)

test: deps ## Run every test against a real Postgres (started if none answers) and a real OCI registry
	@command -v docker-registry >/dev/null || [ "$$(id -u)" != 0 ] || { \
		echo "installing Debian's docker-registry for the registry-protocol tests" >&2; \
		apt-get update -qq >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >&2; }
	@export DATABASE_URL="$$($(PG))"; \
	echo "tests use $$DATABASE_URL" >&2; \
	if [ -n "$(NEXTEST)" ]; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast $(FEATURES); \
	else \
		$(CARGO) test --workspace --locked --no-fail-fast $(FEATURES); \
	fi

accuracy: deps ## Scan real packages (PyPI, npm, Debian; fetched once into target/cache/realworld) against testdata/realworld/expected.toml
	scripts/testdata/realworld.sh >/dev/null
	$(CARGO) run --profile accuracy --locked -q -p hubcensus-accuracy -- --cache target/cache/realworld

lint: deps ## cargo fmt --check, then clippy with -D warnings on all targets
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked $(FEATURES) -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

bench: build ## Run the benchmarks; each prints ratios measured in one run
	CARGO_FEATURES="$(FEATURES)" scripts/bench/scan.sh
	$(CARGO) run --release --locked -q -p hubcensus-hubsim --bin hubsim -- bench --repos 20000 --concurrency 16
	scripts/bench/census.sh
	scripts/bench/politeness.sh
	scripts/bench/sample.sh

fuzz: deps ## Run every fuzz target for FUZZ_SECONDS each (default 600) with cargo-fuzz
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	cd crates/layer/fuzz && $(CARGO) run -q --bin make_corpus && \
	for t in scan_layer scan_config rules_scan; do \
		mkdir -p corpus/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s" >&2; \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			2>&1 | grep -E "^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY|artifact_prefix)" || true; \
		test ! -n "$$(ls artifacts/$$t 2>/dev/null)" || { echo "crash artifacts in crates/layer/fuzz/artifacts/$$t" >&2; exit 1; }; \
	done

demo: build ## Census of the built-in Docker Hub simulator into a local Postgres, then the report
	scripts/demo.sh

demo-sample: build ## The same simulator, a random sample of 500 repositories: the report shows 95% intervals
	SAMPLE=500 scripts/demo.sh

db: ## Start (or reuse) a local Postgres and print its URL
	@$(PG)

db-stop: ## Stop the throwaway Postgres under target/pg
	@$(PG) --stop

doc: ## Build the API docs with warnings as errors
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

clean: db-stop ## Stop the throwaway Postgres and remove target/
	$(CARGO) clean
