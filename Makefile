# Leman: the two commands a newcomer needs are `make run` and `make test`.
CARGO ?= cargo
BIND ?= $(or $(LEMAN_BIND),127.0.0.1:8080)

.PHONY: run build bin test lint fmt test-sqlite test-pg contract scale-test fault-test fault-test-short outage-test openapi bench bench-profile spec-lint spec-diff clients walkthroughs swagger-ui-check

## Serve on SQLite (./data) with nothing else to install.
run:
	$(CARGO) build --locked
	@./target/debug/leman demo-data
	@echo "Leman: serving on http://$(BIND) (API docs at http://$(BIND)/docs/)"
	./target/debug/leman serve

build:
	$(CARGO) build --locked

## The binary the live-server checks run (contract, scale, fault, outage, clients, walkthroughs,
## Swagger UI): by default the debug build that `make test-sqlite` has already made, which spares
## `make test` a release build (~7 min on 2 cores); `make contract PROFILE=release` checks an
## optimised one. `make bench` always measures release builds. Built by `cargo test --no-run`:
## `cargo build` leaves the dev-dependencies' features out and would build every crate they
## touch (and `leman`) a second time, differently.
PROFILE ?= debug
export LEMAN_BIN := target/$(PROFILE)/leman
bin:
	$(if $(filter release,$(PROFILE)),$(CARGO) build --release --locked,$(CARGO) test --locked --no-run)

## Everything CI checks: format, lints, the spec's lint and diff against the baseline, tests on
## SQLite and PostgreSQL, then against a live server: the contract, three instances on one
## PostgreSQL (skipped with a message when no server is there, except on CI), kill -9 in its short
## form, the database stopped under load, generated clients, curl walkthroughs and Swagger UI in
## a browser.
test: lint spec-lint spec-diff test-sqlite test-pg contract scale-test fault-test-short outage-test clients walkthroughs swagger-ui-check

lint:
	$(CARGO) fmt --check
	scripts/check-layers.sh
	$(CARGO) clippy --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt

test-sqlite:
	env -u TEST_DATABASE_URL $(CARGO) test --locked

test-pg:
	TEST_DATABASE_URL="$$(scripts/ensure-postgres.sh | tail -n 1)" $(CARGO) test --locked

contract: bin
	scripts/contract-test.sh

## Three `leman serve` and one `leman worker` on one PostgreSQL behind a round-robin proxy.
scale-test: bin
	scripts/scale-test.sh

## kill -9, repeated: `leman serve` (jobs on) killed FAULT_KILLS times (50) at random moments under
## payments, top-ups, withdrawals, refunds, mails, webhooks and renewals, on SQLite then on
## PostgreSQL (skipped with a message when none, except on CI); invariants after each restart.
fault-test: bin
	scripts/fault-test.sh

## The same with 5 kills per engine (≈ 1 min on 2 cores), for `make test` and CI.
fault-test-short: bin
	FAULT_KILLS=$${FAULT_KILLS:-5} FAULT_AUDIT_EVERY=$${FAULT_AUDIT_EVERY:-5} scripts/fault-test.sh

## No breaking change to the committed spec unless listed in docs/api-changes.md (docs/api.md);
## the self-test proves the check fails on breaking changes (~30 s; first run installs the differ).
spec-diff:
	scripts/spec-diff.sh --self-test

## The database goes away: a throwaway PostgreSQL stopped for 20 s under load (OUTAGE_SECONDS),
## a SQLite file made read-only and its disk full (docs/outage.md). ~70 s; needs root for the
## SQLite legs (chattr, mount), skipped with a message otherwise.
outage-test: bin
	scripts/outage-test.sh

## Python and TypeScript clients generated from openapi/openapi.json run a partner's flow.
clients: bin
	scripts/clients/run.sh

## The curl walkthroughs of scripts/walkthrough/, against one live server.
walkthroughs: bin
	scripts/walkthrough/run-all.sh

## /docs in headless Chromium: Authorize, Try it out on GET /v1/me (screenshot: target/swagger-ui.png).
swagger-ui-check: bin
	scripts/swagger-ui-check.sh

## Lint the committed spec: Redocly `recommended` and Spectral `spectral:oas`, no error, no
## warning but those listed with a reason (redocly.yaml, .spectral.yaml). ~25 s once installed.
spec-lint:
	scripts/lint-spec.sh

## Rewrite the committed spec from the code.
openapi:
	$(CARGO) run --locked -q -- openapi --output openapi/openapi.json

## The performance budget (DESIGN.md) on this machine, release build (several minutes): reads
## against bare handlers under wrk (installed if missing), writes on SQLite and on PostgreSQL
## (when scripts/ensure-postgres.sh finds or starts one) against benches/baseline.json.
bench:
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/ensure-postgres.sh | tail -n 1)}" $(CARGO) bench --locked --bench bench

## The read path's callgrind profile: instructions per request and top functions (docs/performance.md).
bench-profile:
	benches/profile.sh
