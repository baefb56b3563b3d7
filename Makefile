# nightshift: build, demo and test. `make demo` and `make test` install what is missing first.

SWIFT ?= swift
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= /etc/systemd/system
# The binary that install-files copies; `make install` builds it first.
BINARY ?= .build/release/nightshift

# Debian packages the build and the tests need: the C libraries behind the system library targets, git for
# the training repository, curl for the stand-in tests, OpenSSH and rsync for the transfer commands and the
# sshd the tests start, and pigz for the archive benchmark.
DEB_PACKAGES := libcurl4-openssl-dev libyaml-dev zlib1g-dev libsqlite3-dev libssl-dev git curl \
    openssh-server openssh-client rsync pigz
# Installed only when no python3 is on PATH; a Python from elsewhere (pyenv, say) is used as it is.
DEB_PYTHON := python3 python3-pip
# The Hub CLI that the stand-in machine runs, as a real Paperspace machine would.
PYTHON_PACKAGES := huggingface_hub>=1.0

.PHONY: all deps build demo test install release install-files clean

all: build

deps:
	@missing=""; \
	for package in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing $(DEB_PYTHON)"; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "Installing Debian packages:$$missing"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	    else \
	        echo "Missing Debian packages:$$missing"; \
	        echo "Install them with: sudo apt-get install -y$$missing"; \
	        exit 1; \
	    fi; \
	fi
	@if ! python3 -c 'import os, sys, sysconfig; dirs = [os.path.dirname(os.path.realpath(sys.executable)), sysconfig.get_path("scripts")]; sys.exit(0 if any(os.path.exists(os.path.join(d, "hf")) for d in dirs) else 1)'; then \
	    echo "Installing the Hugging Face CLI with pip: $(PYTHON_PACKAGES)"; \
	    python3 -m pip install --quiet --disable-pip-version-check "$(PYTHON_PACKAGES)" || \
	        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$(PYTHON_PACKAGES)"; \
	fi
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "Swift 6 is required: install the toolchain and put it on PATH"; exit 1; }

build: deps
	$(SWIFT) build --build-tests

demo: build
	.build/debug/nightshift demo

test: build
	$(SWIFT) test --skip-build

install: release install-files

release:
	$(SWIFT) build -c release

# Copies the built binary, the unit, the example config and the docs, without building. Paths in the unit
# follow PREFIX and SYSCONFDIR. DESTDIR stages the tree elsewhere, as packaging does.
install-files:
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/nightshift
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's#/usr/local/#$(PREFIX)/#g' -e 's#/etc/nightshift/#$(SYSCONFDIR)/nightshift/#g' \
	    systemd/nightshift.service > $(DESTDIR)$(UNITDIR)/nightshift.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/nightshift.service
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/nightshift/README.md
	install -D -m 0644 docs/operations.md $(DESTDIR)$(PREFIX)/share/doc/nightshift/operations.md
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/nightshift
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/nightshift/credentials
	@# The example config holds no secret, and the service's dynamic user must be able to read it.
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/nightshift/nightshift.yaml ]; then \
	    install -D -m 0644 etc/nightshift.yaml $(DESTDIR)$(SYSCONFDIR)/nightshift/nightshift.yaml; \
	else \
	    echo "Keeping the existing $(SYSCONFDIR)/nightshift/nightshift.yaml"; \
	fi
	@echo "Installed. Put the secrets in $(SYSCONFDIR)/nightshift/credentials (mode 600), then run:"
	@echo "  systemctl daemon-reload && systemctl enable --now nightshift"

clean:
	rm -rf .build
