# Bedrock — the two commands a newcomer needs:
#
#   make run    install what is missing, build (release), start the gateway on 127.0.0.1:8080
#   make test   install what is missing, build (debug), swift test, then the black-box
#               integration tests in tests/integration (pytest + websockets), then a few
#               seconds of each fuzz target (Tests/Fuzz, docs/FUZZING.md)
#
# Other targets: make build, make release, make deps, make sample-data, make bench, make fuzz,
# make deploy-check (the deploy/ files through their validators, also run by make test),
# make clean, make test-tsan / make test-asan (the XCTest suite under ThreadSanitizer /
# AddressSanitizer, both run by make test).
# Every target is idempotent and quick when everything is already installed and built.
#
# Knobs (make VAR=value):
#   SCRATCH      SwiftPM build directory (default .build); the integration tests use
#                $(SCRATCH)/debug/bedrock.
#   PYTEST_ARGS  extra pytest arguments, e.g. PYTEST_ARGS='-k replay -x'.
#   RUN_ARGS     extra `bedrock serve` arguments for `make run`, e.g. RUN_ARGS='--port 9090'.
#   TSAN_SCRATCH, ASAN_SCRATCH  build directories of the sanitizer runs (default .build-tsan,
#                .build-asan: instrumented builds never replace the objects of SCRATCH).
#   FUZZ_SECONDS seconds per fuzz target for `make fuzz` (default 60); FUZZ_SMOKE_SECONDS the
#                same for the smoke in `make test` (default 5); FUZZ_TARGETS picks targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Swift lives in /opt/swift on the project's machines; use it when `swift` is not on PATH.
SWIFT_HOME ?= /opt/swift/usr/bin
ifeq ($(shell command -v swift 2>/dev/null),)
export PATH := $(SWIFT_HOME):$(PATH)
endif

SCRATCH     ?= .build
SWIFT_FLAGS := --scratch-path $(SCRATCH)
DEBUG_BIN   := $(SCRATCH)/debug/bedrock
RELEASE_BIN := $(SCRATCH)/release/bedrock
CONFIG      ?= config/bedrock.json
RUN_ARGS    ?=
PYTEST_ARGS ?=
# `make run` ingests the built-in `sample` exchange (SPEC §10: the deterministic, clearly synthetic
# market of `bedrock sample-data`, produced in-process: SAMPLE_HISTORY bars of history, then one
# bar every SAMPLE_BAR_S seconds). A real exchange is one setting away:
#   make run SAMPLE_MARKETS=binance:BTC/USDT:1m
DATA_DIR       ?= .bedrock
SAMPLE_MARKETS ?= sample:BTC/USDT:1h,sample:ETH/USDT:1h
SAMPLE_BAR_S   ?= 2
SAMPLE_HISTORY ?= 1000
# Where `make sample-data` writes the sample market's CSV files: the datasets directory, so
# backtests started from the dashboard can pick them.
DATASETS_DIR   ?= $(DATA_DIR)/datasets

# Debian packages: the C libraries (libcurl for outbound HTTP: exchanges, LLM, webhooks; cairo for
# the backtest report PDF, with fonts-dejavu-core, the font it draws with), the Redis server
# (embedded default and tests), pkg-config (SwiftPM finds the libraries with it).
APT_PACKAGES      := libwebsockets-dev libjansson-dev libhiredis-dev libjwt-dev libcurl4-openssl-dev libcairo2-dev fonts-dejavu-core redis-server pkg-config
# Extra packages for the tests: openssl (self-signed certificates in the TLS tests of the gateway
# and of the HTTP client); chromium and
# chromium-driver (the dashboard's browser tests, tests/integration/test_dashboard.py, via selenium);
# eslint (make lint-js); poppler-utils (pdfinfo, pdftotext and pdftoppm read the report PDF in
# tests/integration/test_report_pdf.py); the validators of `make deploy-check`: prometheus
# (promtool), nginx (nginx -t), systemd (systemd-analyze verify), docker-compose (docker-compose
# config: the Compose specification's schema, no Docker daemon needed).
APT_TEST_PACKAGES := openssl chromium chromium-driver eslint poppler-utils prometheus nginx systemd docker-compose redis-sentinel

# Python tools for the integration tests, in a private virtual environment (pinned in
# tests/integration/requirements.txt). Lives under .build-py/, which git ignores.
PYTHON   ?= python3
VENV     := .build-py/venv
VENV_PY  := $(VENV)/bin/python
PY_REQS  := tests/integration/requirements.txt tools/crosscheck/requirements.txt
PY_STAMP := $(VENV)/.installed

export DEBIAN_FRONTEND := noninteractive

.PHONY: help deps test-deps build release run sample-data test swift-test test-tsan test-asan integration-test deploy-check fuzz fuzz-smoke bench lint lint-swift lint-imports lint-js clean distclean

help:
	@echo "Bedrock — make targets:"
	@echo "  make run          install missing packages, build release, start the gateway (http://127.0.0.1:8080)"
	@echo "  make test         install missing packages, build, swift test, sanitizer runs, integration tests"
	@echo "  make test-tsan    swift test under ThreadSanitizer ($(TSAN_SCRATCH)); fails on any report"
	@echo "  make test-asan    swift test under AddressSanitizer + LeakSanitizer ($(ASAN_SCRATCH)); fails on any report"
	@echo "  make build        debug build ($(DEBUG_BIN))"
	@echo "  make release      release build ($(RELEASE_BIN))"
	@echo "  make sample-data  write the synthetic sample market CSV files into the datasets directory"
	@echo "  make fuzz         run each libFuzzer target (Tests/Fuzz) for FUZZ_SECONDS (60); see docs/FUZZING.md"
	@echo "  make bench        run the benchmarks (Benchmarks/: trading core, engine, JWT, LLM cache; then the gateway rows of loadtest/run-benchmarks.sh)"
	@echo "  make deploy-check every deploy/ file through its validator (kubernetes-validate, nginx -t, promtool, systemd-analyze, docker-compose config; run by make test)"
	@echo "  make lint         lint-swift, lint-imports and lint-js (run by make test)"
	@echo "  make lint-swift   swift format lint --strict with .swift-format over Sources, Tests, loadtest"
	@echo "  make lint-imports check that each C library is imported by its wrapper target only"
	@echo "  make lint-js      lint the dashboard's modules (public/js) with eslint; fails on any problem"
	@echo "  make clean        remove build output and the test virtualenv"

# Install the Debian packages that are missing (apt-get update once, only when something is
# missing). Uses sudo only when not root.
define apt_install
	missing=""; \
	for p in $(1); do \
	  dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
	  echo "==> installing:$$missing"; \
	  $$SUDO apt-get update -q; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

SWIFT_CHECK := command -v swift >/dev/null || { echo "error: swift not found (looked on PATH and in $(SWIFT_HOME))" >&2; exit 1; }

deps:
	@$(call apt_install,$(APT_PACKAGES))
	@$(SWIFT_CHECK)

# One apt pass for the build and the test packages (apt-get update at most once).
test-deps:
	@$(call apt_install,$(APT_PACKAGES) $(APT_TEST_PACKAGES))
	@$(SWIFT_CHECK)
	@$(MAKE) -s --no-print-directory $(PY_STAMP)

# The virtualenv is rebuilt only when the pinned requirements change.
$(PY_STAMP): $(PY_REQS)
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  $(call apt_install,python3 python3-venv python3-pip); \
	fi
	@[ -x "$(VENV_PY)" ] || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check $(addprefix -r ,$(PY_REQS))
	@touch $@

build: deps
	swift build $(SWIFT_FLAGS)

release: deps
	swift build -c release $(SWIFT_FLAGS)

# The gateway runs in the foreground with live market data from the in-process sample exchange
# (no background processes: a restart continues the series where the stream left off), and the
# sample market's CSV files in the datasets directory for backtests.
run: release
	@mkdir -p $(DATA_DIR)
	@$(RELEASE_BIN) sample-data --config $(CONFIG) --out $(DATASETS_DIR) >/dev/null
	@echo "==> starting Bedrock on http://127.0.0.1:8080 with live markets $(SAMPLE_MARKETS) (Ctrl-C stops it; token: $(RELEASE_BIN) token --sub alice --role TRADER)"
	BEDROCK_MARKET_DATA_MARKETS='$(SAMPLE_MARKETS)' BEDROCK_MARKET_DATA_SAMPLE_BAR_S=$(SAMPLE_BAR_S) \
	  BEDROCK_MARKET_DATA_BACKFILL_BARS=$(SAMPLE_HISTORY) exec $(RELEASE_BIN) serve --config $(CONFIG) $(RUN_ARGS)

# Writes the synthetic sample market (bedrock sample-data: BTCUSDT and ETHUSDT, 1h, CSV) into
# $(DATASETS_DIR), where backtests and optimisations find it.
sample-data: release
	@$(RELEASE_BIN) sample-data --config $(CONFIG) --out $(DATASETS_DIR)

swift-test: build
	swift test $(SWIFT_FLAGS)

# The XCTest suite under ThreadSanitizer and under AddressSanitizer (with LeakSanitizer), each in
# its own build directory so the instrumented objects never replace the debug build of SCRATCH.
# Any report fails the run: the sanitizer makes the test process exit non-zero (TSan's exitcode
# 66 at exit, ASan's abort at the first error, LSan's leak report at exit), so swift test fails.
# Suppressions (reports that are not ours, each with its reason) are in Tests/Sanitizers/; see
# docs/THREADS.md, "Sanitizer runs".
TSAN_SCRATCH ?= .build-tsan
ASAN_SCRATCH ?= .build-asan
SANITIZER_DIR := $(abspath Tests/Sanitizers)
TSAN_ENV := TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1"
ASAN_ENV := ASAN_OPTIONS="detect_leaks=1 halt_on_error=1" \
            LSAN_OPTIONS="suppressions=$(SANITIZER_DIR)/lsan.supp print_suppressions=0"

test-tsan: deps
	$(TSAN_ENV) swift test --sanitize=thread --scratch-path $(TSAN_SCRATCH)

test-asan: deps
	$(ASAN_ENV) swift test --sanitize=address --scratch-path $(ASAN_SCRATCH)

# The deployment files of deploy/ (Dockerfile, compose, Kubernetes, systemd, nginx, Prometheus,
# Grafana), each through a real validator: deploy/check.sh says which. Any finding fails. The
# cross-file facts (probe routes, the Dockerfile's build commands, metric names against a running
# gateway) are tests/integration/test_deploy_files.py. docs/OPERATIONS.md describes the files.
deploy-check: test-deps
	deploy/check.sh $(VENV_PY)

integration-test: test-deps
	swift build $(SWIFT_FLAGS)
	BEDROCK_BIN="$(abspath $(DEBUG_BIN))" $(VENV_PY) -m pytest tests/integration -q $(PYTEST_ARGS)

# Both suites always run (so one failure does not hide the other's results); the target fails
# if either did.
test: test-deps
	swift build $(SWIFT_FLAGS)
	@rc=0; \
	echo "==> make lint (swift format, C imports, eslint)"; \
	$(MAKE) -s --no-print-directory lint || rc=1; \
	echo "==> swift test"; \
	swift test $(SWIFT_FLAGS) || rc=1; \
	echo "==> swift test under ThreadSanitizer ($(TSAN_SCRATCH))"; \
	$(MAKE) -s --no-print-directory test-tsan || rc=1; \
	echo "==> swift test under AddressSanitizer and LeakSanitizer ($(ASAN_SCRATCH))"; \
	$(MAKE) -s --no-print-directory test-asan || rc=1; \
	echo "==> deploy-check (kubernetes-validate, nginx -t, promtool, systemd-analyze, docker-compose config)"; \
	deploy/check.sh $(VENV_PY) || rc=1; \
	echo "==> integration tests (pytest tests/integration, $(DEBUG_BIN))"; \
	BEDROCK_BIN="$(abspath $(DEBUG_BIN))" $(VENV_PY) -m pytest tests/integration -q $(PYTEST_ARGS) || rc=1; \
	echo "==> sma_cross cross-check against backtesting.py (pytest tools/crosscheck)"; \
	BEDROCK_BIN="$(abspath $(DEBUG_BIN))" $(VENV_PY) -m pytest tools/crosscheck -q || rc=1; \
	echo "==> fuzz smoke ($(FUZZ_SMOKE_SECONDS) s per target, Tests/Fuzz)"; \
	$(MAKE) -s --no-print-directory fuzz-smoke || rc=1; \
	if [ $$rc -ne 0 ]; then echo "==> make test: FAILED (see above)" >&2; fi; \
	exit $$rc

# `make fuzz`: the libFuzzer targets of Tests/Fuzz (a package of its own: socket frames into the
# session machine, the JSON codec, the CSV loader, the config loader, the HTTP head's pure parts),
# built in release with libFuzzer and AddressSanitizer over the whole graph in $(SCRATCH)/fuzz, each
# run for FUZZ_SECONDS over its committed corpus; new inputs go to $(SCRATCH)/fuzz-corpus, crash
# inputs to $(SCRATCH)/fuzz-artifacts. Any finding fails the target. `fuzz-smoke` (part of
# `make test`) is the same for FUZZ_SMOKE_SECONDS each. See docs/FUZZING.md.
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS       ?=

fuzz: deps
	SCRATCH=$(SCRATCH) Tests/Fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	SCRATCH=$(SCRATCH) Tests/Fuzz/fuzz.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# `make bench`: the benchmarks of Benchmarks/ (ordo-one/benchmark, a package of its own so that
# `make build`/`make test` never compile it: trading core, live engine, JWT, LLM sentiment cache; release build, one
# table per benchmark), then the gateway rows of loadtest/run-benchmarks.sh (fresh redis-server and
# release gateway per row; wrk installed when missing), ending with one table: connections held,
# memory per connection, frames/s, latency percentiles, request rates. BENCH_ARGS go to
# `swift package benchmark`, e.g. BENCH_ARGS='--target TradingCoreBenchmarks' or
# BENCH_ARGS='--filter sma_cross'. GATEWAY_ROWS picks the rows (empty: none); the long ones run
# only when named, e.g. make bench GATEWAY_ROWS="soak hold-10000" SOAK_S=1800 HOLD_S=600. Results
# go to GATEWAY_BENCH_OUT (not loadtest/results, which holds the figures of record). The script's
# other knobs (QUIET_WAIT, REQUEST_S, ...) pass through from the command line.
BENCH_ARGS        ?=
GATEWAY_ROWS      ?= connect-5000 hold-1000 hold-5000 fanout-1000x100-latency fanout-frames fanout-batched request-estimate wrk-estimate wrk-publish mixed
GATEWAY_BENCH_OUT ?= $(SCRATCH)/gateway-bench

bench: deps $(PY_STAMP)
	@$(call apt_install,wrk)
	cd Benchmarks && swift package benchmark --no-progress $(BENCH_ARGS)
	@rm -rf $(GATEWAY_BENCH_OUT)
	@if [ -n "$(strip $(GATEWAY_ROWS))" ]; then \
	  SCRATCH=$(SCRATCH) OUT=$(GATEWAY_BENCH_OUT) ONLY="$(GATEWAY_ROWS)" PYTHON=$(abspath $(VENV_PY)) loadtest/run-benchmarks.sh; \
	fi

# Every linter; `make test` runs this first.
lint: lint-swift lint-imports lint-js

# Each C library is imported by its one wrapper target only (and that target's tests, which may
# compare with the library itself). SwiftPM lets any target that
# depends on a wrapper import the wrapped C module as well, so the rule is checked here.
C_WRAPPERS := CWebSockets:Transport CJansson:JSONCodec CHiredis:RedisClient CJWT:JWTAuth CCurl:HTTPClient CCairo:ReportPDF
lint-imports:
	@bad=""; \
	for pair in $(C_WRAPPERS); do \
	  module=$${pair%%:*}; owner=$${pair##*:}; \
	  found=$$(grep -rnE "^[[:space:]]*([a-z@_]+[[:space:]]+)*import[[:space:]]+$$module\b" Sources loadtest Tests | grep -vE "^(Sources/$$owner|Tests/$${owner}Tests)/" || true); \
	  [ -z "$$found" ] || bad="$$bad$$found (only Sources/$$owner may import $$module)"$$'\n'; \
	done; \
	if [ -n "$$bad" ]; then printf 'C modules imported outside their wrapper target:\n%s' "$$bad" >&2; exit 1; fi; \
	echo "lint-imports: each C module is imported by its wrapper target only"

# Swift style: the toolchain's swift-format with the committed .swift-format; any finding fails.
# `swift format format --in-place -r $(SWIFT_LINT_DIRS)` applies it.
SWIFT_LINT_DIRS := Sources Tests loadtest/Sources Benchmarks/BedrockBenchmarks Benchmarks/TradingCoreBenchmarks
lint-swift:
	@$(SWIFT_CHECK)
	swift format lint --strict --parallel -r $(SWIFT_LINT_DIRS)
	@echo "lint-swift: no findings"

# Lints the dashboard's modules (public/js, rules in public/.eslintrc.json) with Debian's eslint,
# installed when missing; any problem fails the target. NODE_PATH: Debian's eslint finds its
# modules in /usr/share/nodejs, which a node not built by Debian (e.g. NodeSource's) does not
# search. The unix formatter needs no other module (the default one needs chalk, not a dependency).
lint-js:
	@$(call apt_install,eslint)
	NODE_PATH=/usr/share/nodejs eslint --format unix --max-warnings 0 public/js
	@echo "lint-js: no problems in public/js"

clean:
	rm -rf $(SCRATCH) $(TSAN_SCRATCH) $(ASAN_SCRATCH) Benchmarks/.build .build-py .pytest_cache tests/integration/__pycache__

# Also removes the local data directory (embedded Redis data, dev JWT secret).
distclean: clean
	rm -rf .bedrock
