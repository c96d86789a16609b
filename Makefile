# One entry point for people and CI. Needs Debian 12 and root (apt, docker).
# `make test` is the whole suite; the phase targets run one part of it.
.DEFAULT_GOAL := help
SHELL := /bin/bash
INVENTORY ?=
SCENARIO ?=

.PHONY: help setup test sanity units pytest lint changelog build runner molecule image docs release demo demo-vm demo-clean clean

help:
	@echo "make setup       install Debian packages and the .venv (idempotent)"
	@echo "make test        the whole suite: sanity, units, pytest, lint, changelog, build, runner, molecule"
	@echo "make sanity | units | pytest | lint | changelog | build | runner | molecule   one phase"
	@echo "                 (runner: the playbook through ansible-runner, and from the installed tarball)"
	@echo "make molecule SCENARIO=lxc_checkconfig   some scenarios (space separated)"
	@echo "make docs        the docs site (antsibull-docs, Sphinx) in build/docs/html"
	@echo "make release     the 1.0.0 release: CHANGELOG.md from the fragments, then the tarball"
	@echo "make image       start dockerd if needed and build the base image"
	@echo "make demo        run site.yml on a disposable container (or INVENTORY=path)"
	@echo "make demo-vm     the same on 2 local VMs that boot, with a kernel built, installed and booted"
	@echo "make demo-clean  remove the demo containers and VMs"
	@echo "Variables: LXCHOST_IMAGE (a pulled image instead of the local build),"
	@echo "           LXCHOST_PRIVILEGED=true (privileged containers instead of a capability list)"

setup:
	scripts/setup.sh

test:
	scripts/test.sh

sanity units pytest lint changelog build runner molecule:
	LXCHOST_SCENARIOS="$(SCENARIO)" scripts/test.sh $@

image:
	scripts/docker-up.sh
	scripts/base-image.sh

docs: setup
	scripts/docs.sh

release: setup
	scripts/release.sh

demo:
	INVENTORY="$(INVENTORY)" scripts/demo.sh

demo-vm:
	VM=1 scripts/demo.sh

demo-clean:
	scripts/demo.sh clean

clean: demo-clean
	rm -rf build .cache/dist .cache/installed
