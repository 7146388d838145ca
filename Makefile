# Letterbox. `make demo` runs the whole thing; `make test` runs every test.
# Both install the Debian packages they need first (apt, as root or with sudo).

SWIFT        ?= swift
PREFIX       ?= $(HOME)/.local
APT_PACKAGES := pkg-config git python3 python3-venv libcmark-gfm-dev libcmark-gfm-extensions-dev \
                libinotifytools0-dev chromium
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          := .build/debug/letterbox

.PHONY: all deps build release install test lint demo clean

all: build

## deps: install the Debian packages Letterbox builds and tests with (only what is missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## install: put `letterbox` in $(PREFIX)/bin (default ~/.local/bin)
install: release
	install -d $(PREFIX)/bin
	install -m 0755 .build/release/letterbox $(PREFIX)/bin/letterbox
	@echo "installed $(PREFIX)/bin/letterbox"

## test: every test (unit, real files, the CLI)
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

## demo: a scratch workspace, a message, and its status
demo: build
	@rm -rf .build/demo
	$(BIN) init .build/demo
	cd .build/demo && ../debug/letterbox new ops --title "Operations" --agent assistant
	cd .build/demo && echo "Is the nightly backup healthy?" | ../debug/letterbox send ops -
	cd .build/demo && ../debug/letterbox status
	cd .build/demo && ../debug/letterbox audit verify

clean:
	rm -rf .build
