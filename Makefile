# Letterbox. `make demo` runs the whole thing; `make test` runs every test.
# Both install the Debian packages they need first (apt, as root or with sudo).

SWIFT        ?= swift
PREFIX       ?= $(HOME)/.local
CONFIG       ?= release
APT_PACKAGES := pkg-config git python3 python3-venv libcmark-gfm-dev libcmark-gfm-extensions-dev \
                libinotifytools0-dev chromium
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps peers build release install test soak lint demo demo-note version bench bench-site bench-daemon fuzz clean

all: build

## deps: install the Debian packages Letterbox builds and tests with (only what is missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## peers: the Python venv with the real AG-UI / OpenAI peers the tests talk to (offline once installed)
peers: deps
	Tests/Peers/setup-venv.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## install: put `letterbox` in $(PREFIX)/bin (default ~/.local/bin); a build of that one product in
## CONFIG (release by default; CI installs its debug build, see .ci/run)
install: deps
	$(SWIFT) build -c $(CONFIG) --product letterbox
	install -d "$(PREFIX)/bin"
	install -m 0755 .build/$(CONFIG)/letterbox "$(PREFIX)/bin/letterbox"
	@echo "installed $(PREFIX)/bin/letterbox ($$("$(PREFIX)/bin/letterbox" --version))"

## version: the version a build gets (VERSION, plus the git commit; scripts/version.sh)
version:
	@scripts/version.sh

## test: every test (unit, real files and inotify, real HTTP, real processes, Chromium, real peers)
# In parallel: pure tests all at once; tests that start daemons, runtimes, Chromium or Python peers
# take one of LETTERBOX_TEST_SLOTS slots (default 3), which a two-core machine serves without timeouts.
test: deps peers
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## soak: the long tier of the reliability suites (docs/reliability.md): 500 crashes, 1,000 messages under 30%
## faults, 20,000 files through a small inotify queue, every search query a payload, 25 disk-full cycles,
## 40 rounds of four daemons racing for one inbox. Each prints its
## figures, also kept in .build/reliability/. `make test` runs their short tier. LETTERBOX_SEED=N replays a run.
RELIABILITY := JournalAuditTests|CrashLoopTests|RuntimeFaultSoakTests|HostileFileTests|TokenCanaryTests|InotifyOverflowTests|XSSTests|DiskFullSoakTests|DaemonRaceTests
soak: deps peers
	$(SWIFT) build --build-tests
	LETTERBOX_SOAK=1 LETTERBOX_TEST_SLOTS=$${LETTERBOX_TEST_SLOTS:-2} $(SWIFT) test --skip-build --filter '$(RELIABILITY)'

lint:
	$(SWIFT) format lint --strict -r Sources Tests Plugins Package.swift

## demo: the reference runtime, the daemon and the site preview on a scratch copy of inbox/
## (in .build/demo: the committed sample is never touched); Ctrl-C stops it
demo: demo-note build
	@scripts/demo.sh

demo-note:
	@[ -x .build/debug/letterbox ] || echo "make demo: the first build compiles Letterbox and all its dependencies: \
	about 20-30 minutes on 2 cores (28 min measured on a busy one; later builds take a minute or two)."

## bench: every benchmark (figures go in docs/benchmarks.md by hand; the site-vs-Hugo chart is written)
bench: bench-site bench-daemon

## bench-site: the site benchmark, then full builds side by side with Debian's hugo (installed if
## missing): a table on stdout, docs/benchmarks/site-vs-hugo.csv and .svg
bench-site: deps
	@command -v hugo >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq hugo; }
	$(SWIFT) build -c release --product letterbox
	$(SWIFT) build -c release --product letterbox-bench
	.build/release/letterbox-bench site
	.build/release/letterbox-bench compare --hugo "$$(command -v hugo)"

bench-daemon: deps
	$(SWIFT) build -c release --product letterbox
	$(SWIFT) build -c release --product letterbox-bench
	.build/release/letterbox-bench daemon

## fuzz: libFuzzer with AddressSanitizer (swift build --sanitize=fuzzer --sanitize=address) on each parser
## that reads others' bytes, FUZZ_RUNS inputs each (default 10^6), from the committed seeds in
## Tests/Fuzz/Corpus; FUZZ_SECONDS=N stops each target after N seconds instead. Crashes go to
## .build-fuzz/crashes/ (docs/reliability.md). `make test` runs a short mutation-loop pass.
FUZZ_TARGETS := front-matter journal-line sse approval-form filename
FUZZ_RUNS    ?= 1000000
FUZZ_SECONDS ?= 0
fuzz: deps
	$(SWIFT) build -c release --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -DLIBFUZZER \
	  --product letterbox-fuzz
	@mkdir -p .build-fuzz/crashes
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t; \
	  echo "== $$t: $(FUZZ_RUNS) inputs$(if $(filter-out 0,$(FUZZ_SECONDS)), or $(FUZZ_SECONDS) s)"; \
	  SWIFT_BACKTRACE=enable=no LETTERBOX_FUZZ_TARGET=$$t .build-fuzz/release/letterbox-fuzz -runs=$(FUZZ_RUNS) \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=.build-fuzz/crashes/$$t- \
	    .build-fuzz/corpus/$$t Tests/Fuzz/Corpus/$$t > .build-fuzz/$$t.log 2>&1; status=$$?; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY)|Fatal error' .build-fuzz/$$t.log; \
	  if [ $$status -ne 0 ]; then echo "$$t: crashed; see .build-fuzz/$$t.log and .build-fuzz/crashes/"; exit 1; fi; \
	done

clean:
	rm -rf .build .build-fuzz .venv
