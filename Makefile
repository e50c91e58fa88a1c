# Entry points. `make demo` and `make test` set up everything they need on a fresh Debian 12 machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
LABCTL := $(PY) lab/labctl.py
export PATH := $(VENV)/bin:$(PATH)

.PHONY: demo test setup host-deps venv image sanity sanity-oldest lint units integration \
	    lab-up lab-down lab-status lab-target build ee docs-lint clean

demo: setup                      ## the main job, end to end on the built-in lab
	$(LABCTL) demo $(if $(STRATEGY),--strategy $(STRATEGY))

test: setup                      ## every test layer: sanity (newest and oldest ansible-core), lint, units, lab integration
	hack/test.sh

setup: host-deps venv image

host-deps:                       ## apt packages (qemu, debootstrap, vde2, ...); no-op when present
	hack/host-deps.sh

venv: $(VENV)/.stamp
$(VENV)/.stamp: tests/requirements.txt requirements.txt hack/venv.sh
	hack/venv.sh $(VENV)

image: host-deps venv            ## build the lab guest images (Debian 12 and 13) once (cached by recipe hash)
	$(LABCTL) image

sanity: venv                     ## ansible-test sanity in the arranged tree, local venv, no Docker
	hack/sanity.sh $(SANITY_ARGS)

sanity-oldest:                   ## the same on the oldest ansible-core meta/runtime.yml claims (.venv-oldest)
	hack/sanity-oldest.sh $(SANITY_ARGS)

lint: venv                       ## ansible-lint, production profile
	hack/lint.sh

units: venv                      ## pytest unit tests
	hack/units.sh $(UNIT_ARGS)

integration: setup               ## boot a fresh lab, run every integration target, tear it down
	$(LABCTL) test $(if $(STRATEGY),--strategy $(STRATEGY)) $(T)

lab-up: setup                    ## boot the dev lab and keep it running (.lab/)
	$(LABCTL) up

lab-target: venv                 ## run target(s) T="a b" against the running dev lab (or the controller)
	$(LABCTL) run $(if $(STRATEGY),--strategy $(STRATEGY)) $(T)

lab-status:
	$(LABCTL) status

lab-down:                        ## stop the dev lab; nothing is left behind
	$(LABCTL) down

build: venv                      ## collection tarball (no lab artefacts)
	hack/build.sh

ee: venv                         ## the execution environment's build context (ansible-builder create), checked
	$(PY) hack/ee-check.py

docs-lint: venv                  ## antsibull-docs lint of docs/docsite and the module and role docs
	hack/docs-lint.sh

clean: lab-down
	rm -rf .build tests/output
