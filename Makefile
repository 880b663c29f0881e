# sluice — every entry point runs on the project's own Node 24 (node_modules/.bin), never the system's.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

K8S_VERSION ?= 1.37.2
KWOK_VERSION ?= v0.8.0
HELM_VERSION ?= v4.3.2
FLAGGER_VERSION ?= v1.44.0
export K8S_VERSION KWOK_VERSION HELM_VERSION FLAGGER_VERSION
K8S_BIN ?= $(HOME)/.cache/sluice/k8s-v$(K8S_VERSION)
# The chart's tests (test/integration/chart/) run this helm.
export SLUICE_HELM := $(HOME)/.cache/sluice/helm-$(HELM_VERSION)/helm
# The peer benchmark (bench/peer/) runs this flagger.
export SLUICE_FLAGGER := $(HOME)/.cache/sluice/flagger-$(FLAGGER_VERSION)/flagger
export SLUICE_K8S_BIN_DIR := $(K8S_BIN)
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export NO_PROXY := 127.0.0.1,localhost
NODE := $(CURDIR)/node_modules/.bin/node
CLUSTER_DIR := .cache/cluster

.PHONY: help deps bins helm flagger prometheus hey chromium buildah podman image tools lint typecheck test test-unit test-integration cluster-up cluster-down run up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@# tap builds its runner from the plugin list in .taprc; build it now, not in the middle of the first run.
	tap build
	@touch $@

deps: node_modules/.installed ## npm packages, Node 24 included

bins: ## build etcd, kube-apiserver, controller-manager, scheduler, kubectl, kwok (cached in ~/.cache/sluice)
	@bash test/cluster/build-bins.sh >/dev/null

helm: ## build helm (v4.3.2, HELM_VERSION) from the Go module proxy, for the chart's tests (cached in ~/.cache/sluice)
	@bash test/cluster/build-helm.sh >/dev/null

flagger: ## build flagger (v1.44.0, FLAGGER_VERSION) from the Go module proxy, for the peer benchmark (cached in ~/.cache/sluice)
	@bash test/cluster/build-flagger.sh >/dev/null

prometheus: ## install Debian's prometheus when it is missing (needs root)
	@bash test/cluster/ensure-prometheus.sh

hey: ## install Debian's hey (the load tester's default program) and curl (the hook tests' acceptance checks) when missing (needs root)
	@bash test/cluster/ensure-deb.sh hey hey
	@bash test/cluster/ensure-deb.sh curl curl

chromium: ## install Debian's chromium, the browser of the dashboard's tests, when it is missing (needs root)
	@bash test/cluster/ensure-deb.sh chromium chromium

buildah: ## install Debian's buildah, which `make image` builds the Containerfile with, when it is missing (needs root)
	@bash test/cluster/ensure-deb.sh buildah buildah

podman: ## install Debian's podman and runc, which the image test runs the image with, when they are missing (needs root)
	@bash test/cluster/ensure-deb.sh podman podman
	@bash test/cluster/ensure-deb.sh runc runc

tools: deps bins helm prometheus hey chromium buildah podman

lint: deps ## eslint with type information
	eslint .

typecheck: deps ## tsc --noEmit (tests run through Node's type stripping, which checks nothing)
	tsc --noEmit -p tsconfig.json

.PHONY: crds
crds: deps ## write manifests/crds/*.yaml from the schemas in src/api/schema.ts
	$(NODE) src/api/crds.ts

test-unit: deps ## unit tests: pure logic, no cluster
	@echo "node $$($(NODE) --version)"
	tap $$(find test/unit -name '*.test.ts' | sort)

test-integration: tools image ## integration and e2e tests against a fresh local cluster (brought up and down for the run)
	@echo "node $$($(NODE) --version)"
	$(NODE) test/cluster/with-cluster.ts -- tap $$(find test/integration test/e2e -name '*.test.ts' ! -name uninstall.test.ts | sort)
	@# sluice uninstall deletes the webhook configurations and sluice-system every other file uses: a cluster of its own.
	SLUICE_CLUSTER_EXCLUSIVE=1 $(NODE) test/cluster/with-cluster.ts -- tap test/e2e/uninstall.test.ts

test: tools lint typecheck test-unit test-integration ## everything CI runs

cluster-up: deps bins ## start the local control plane (idempotent); prints the KUBECONFIG export
	@$(NODE) test/cluster/cli.ts up --dir $(CLUSTER_DIR) --bin-dir $(K8S_BIN)

cluster-down: deps ## stop every process cluster-up started
	@$(NODE) test/cluster/cli.ts down --dir $(CLUSTER_DIR)

up: deps bins prometheus hey ## local cluster + CRDs + RBAC + traffic simulator + Prometheus + `sluice serve` and `sluice loadtester` (each as its own ServiceAccount)
	@$(NODE) test/cluster/cli.ts up --sluice --dir $(CLUSTER_DIR) --bin-dir $(K8S_BIN)

down: cluster-down ## stop everything `make up` started

run: up ## bring the local environment up, play a release (promotion, then a rollback), and say how to use it
	@$(NODE) test/cluster/demo.ts $(CLUSTER_DIR)
	@echo
	@echo "The local cluster is up with sluice (webhook and controller), its load tester, Prometheus and the traffic simulator. Use it with:"
	@echo "  export KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig PATH=$(K8S_BIN):\$$PATH"
	@echo "  kubectl apply -f examples/podinfo.yaml        # watch the plan preview in the warnings"
	@echo "  kubectl -n shop get canary podinfo -w         # Initialized; apply a new image to see a release"
	@echo "Stop it with: make down"

clean: cluster-down
	rm -rf .cache .tap

# The image, built here from the Containerfile without a daemon and without pulling a base image: image/rootfs.sh
# assembles the root filesystem from this machine (the project's Node, its libraries, production node_modules)
# and stands in for the Containerfile's `rootfs` stage. buildah's storage is private to the build and removed.
# Created time and file times are the last commit's: the same commit builds the same image (same digest).
IMAGE_DIR := .cache/image
IMAGE_NAME = localhost/sluice:$(shell $(NODE) -p 'require("./package.json").version' 2>/dev/null)
BUILDAH := buildah --root $(CURDIR)/$(IMAGE_DIR)/storage --runroot $(CURDIR)/$(IMAGE_DIR)/run --storage-driver vfs

image: deps buildah ## build the Containerfile's image here (no daemon, no base image) into .cache/image/sluice.oci.tar
	rm -rf $(IMAGE_DIR)
	bash image/rootfs.sh $(IMAGE_DIR)/rootfs
	$(BUILDAH) build --quiet --build-context rootfs=$(IMAGE_DIR)/rootfs --timestamp $$(git log -1 --format=%ct 2>/dev/null || echo 0) -t $(IMAGE_NAME) -f Containerfile .
	$(BUILDAH) push --quiet $(IMAGE_NAME) oci-archive:$(IMAGE_DIR)/sluice.oci.tar:$(IMAGE_NAME)
	rm -rf $(IMAGE_DIR)/storage $(IMAGE_DIR)/run $(IMAGE_DIR)/rootfs
	@echo "$(IMAGE_DIR)/sluice.oci.tar: $(IMAGE_NAME), $$(du -m $(IMAGE_DIR)/sluice.oci.tar | cut -f1) MB"

.PHONY: manifests certs
manifests: crds ## regenerate manifests/webhooks.yaml from src/admission/registration.ts, prometheusrule.yaml from monitoring/alerts.rules.yaml (and the CRDs)
	$(NODE) src/admission/manifests.ts
	$(NODE) src/telemetry/prometheus-rule.ts

certs: deps ## write local development certificates (CA, serving cert for localhost) into certs/
	$(NODE) src/certs/dev-cli.ts certs

.PHONY: bench-webhook
bench-webhook: deps bins ## webhook benchmark: HTTPS load on one server process, API-server-observed latency on a local cluster (report: .cache/bench/webhook.json)
	$(NODE) bench/webhook.ts

.PHONY: bench-webhook-start
bench-webhook-start: deps ## the first reviews after the webhook starts, with and without its warm-up (report: .cache/bench/first-reviews.json)
	$(NODE) bench/first-reviews.ts

.PHONY: bench-kube-requests
bench-kube-requests: deps bins ## client CPU per Kubernetes API call, client-node's fetch against sluice's transport on HTTP/2 and HTTP/1.1, beside Go's client-go and net/http (report: .cache/bench/kube-requests.json)
	$(NODE) bench/kube-requests.ts

# sluice as the image runs it, for the benchmarks, unless the environment names another build; the Node flags are
# the controller container's in manifests/deployment.yaml unless BENCH_CONTROLLER_NODE_ARGS names others (bench/args.ts).
AS_IMAGE = BENCH_CONTROLLER_BIN=$${BENCH_CONTROLLER_BIN:-.cache/bundle/bin/sluice.mjs}

.PHONY: bundle
bundle: deps ## sluice in one file, as the image runs it (image/bundle.ts): .cache/bundle/bin/sluice.mjs
	$(NODE) image/bundle.ts .cache/bundle

.PHONY: bench-controller
bench-controller: deps bins prometheus bundle ## controller benchmark: N canaries analysing at once on a local cluster (N=100 for one size; report: .cache/bench/controller.json)
	$(AS_IMAGE) $(NODE) bench/controller/main.ts $(if $(N),--sizes $(N))

.PHONY: bench-peer
bench-peer: deps bins prometheus flagger bundle ## Flagger v1.44.0 beside sluice: the same N nginx canaries on fresh clusters (N=1 for one size, REPEAT=3 for rounds; report: .cache/bench/peer.json)
	$(AS_IMAGE) $(NODE) bench/peer/main.ts $(if $(N),--sizes $(N)) $(if $(REPEAT),--repeat $(REPEAT))
