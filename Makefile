# Letterbox. `make demo` runs the whole thing; `make test` runs every test.
# Both install the Debian packages they need first (apt, as root or with sudo).

SWIFT        ?= swift
PREFIX       ?= $(HOME)/.local
APT_PACKAGES := pkg-config git python3 python3-venv libcmark-gfm-dev libcmark-gfm-extensions-dev \
                libinotifytools0-dev chromium
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps peers build release install test soak lint demo bench bench-site bench-daemon clean

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

## install: put `letterbox` in $(PREFIX)/bin (default ~/.local/bin)
install: release
	install -d $(PREFIX)/bin
	install -m 0755 .build/release/letterbox $(PREFIX)/bin/letterbox
	@echo "installed $(PREFIX)/bin/letterbox"

## test: every test (unit, real files and inotify, real HTTP, real processes, Chromium, real peers)
# In parallel: pure tests all at once; tests that start daemons, runtimes, Chromium or Python peers
# take one of LETTERBOX_TEST_SLOTS slots (default 3), which a two-core machine serves without timeouts.
test: deps peers
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## soak: the long tier of the reliability suites (docs/reliability.md): 500 crashes, 1,000 messages under 30%
## faults, 20,000 files through a small inotify queue, every search query a payload. Each prints its
## figures, also kept in .build/reliability/. `make test` runs their short tier. LETTERBOX_SEED=N replays a run.
RELIABILITY := CrashLoopTests|RuntimeFaultSoakTests|HostileFileTests|TokenCanaryTests|InotifyOverflowTests|XSSTests
soak: deps peers
	$(SWIFT) build --build-tests
	LETTERBOX_SOAK=1 LETTERBOX_TEST_SLOTS=$${LETTERBOX_TEST_SLOTS:-2} $(SWIFT) test --skip-build --filter '$(RELIABILITY)'

lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

## demo: the reference runtime and the daemon on this repository's inbox/; the site in site/
demo: build
	scripts/demo.sh "$(CURDIR)"

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

clean:
	rm -rf .build .venv
