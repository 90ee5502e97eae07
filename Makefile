# TimmyBot. `make run` and `make test` are the two commands of the quick start;
# both check and install what they need. See README.md for the others.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN  := $(CURDIR)/bin
PKGS := ./app/... ./constructs/... ./infra/... ./test/...

# staticcheck release 2026.2.2 is module version v0.8.2
STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION  := v1.7.12

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := 1

.PHONY: help run test unit fuzz lint bench synth deploy cost tools dynamodb-local prereqs-run prereqs-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: prereqs-run ## run the bot locally (embedded store, secrets from env / .env)
	go build -o $(BIN)/timmybot ./app/cmd/timmybot
	$(BIN)/timmybot serve

test: prereqs-test lint unit fuzz ## run the whole suite: lint, unit, integration and end-to-end tests

unit: prereqs-test dynamodb-local
	$(WITH_DYNAMODB) go test -count=1 -timeout 15m $(PKGS)

# WITH_DYNAMODB runs a command with DynamoDB Local beside it and
# DYNAMODB_ENDPOINT set (test/cmd/dynamodblocal): DynamoDB Local's image
# through testcontainers (DYNAMODB_LOCAL_IMAGE, default amazon/dynamodb-local),
# or else its jar on java.
DYNAMODB_LOCAL_JAR := $(BIN)/dynamodb-local
WITH_DYNAMODB := $(BIN)/dynamodblocal -jar $(DYNAMODB_LOCAL_JAR) $(if $(DYNAMODB_LOCAL_IMAGE),-image $(DYNAMODB_LOCAL_IMAGE))

dynamodb-local: $(DYNAMODB_LOCAL_JAR)/DynamoDBLocal.jar
	go build -o $(BIN)/dynamodblocal ./test/cmd/dynamodblocal

$(DYNAMODB_LOCAL_JAR)/DynamoDBLocal.jar:
	scripts/dynamodb-local-jar $(DYNAMODB_LOCAL_JAR)

lint: tools ## gofmt, go mod tidy, go vet, staticcheck, actionlint
	@out=$$(gofmt -l app constructs infra test); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@for m in app constructs infra test; do (cd $$m && go mod tidy -diff) || { echo "go mod tidy would change $$m/go.mod or go.sum: run it there"; exit 1; }; done
	go vet $(PKGS)
	$(BIN)/staticcheck $(PKGS)
	$(BIN)/actionlint

# Fuzz targets as package:FuzzName. Each runs FUZZTIME new inputs beyond its
# committed seed corpus (testdata/fuzz), which plain `go test` already replays;
# a count rather than a duration, so a slow machine cannot fail it on time.
FUZZTIME ?= 100000x
FUZZ_TARGETS := ./app/voice:FuzzGatewayMessage ./app/voice/transport:FuzzOpen ./app/voice/dave/frame:FuzzDecrypt \
	./app/voice/mls:FuzzMLSMessage ./app/voice/mls:FuzzKeyPackage ./app/voice/mls:FuzzWelcome \
	./app/voice/mls:FuzzRatchetTree ./app/voice/mls:FuzzGroupHandshake \
	./app/audio/ogg:FuzzOggReader ./app/audio/webm:FuzzWebMReader

fuzz: ## run every fuzz target briefly (FUZZTIME executions, default 100000x)
	@for t in $(FUZZ_TARGETS); do go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; done

bench: prereqs-test dynamodb-local ## run the benchmarks and print their reports
	$(WITH_DYNAMODB) go test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

CDK := node_modules/.bin/cdk --no-notices

synth: prereqs-test ## synthesize the five AWS stacks into cdk.out/ (no AWS credentials needed)
	$(CDK) synth --quiet

deploy: prereqs-test ## deploy the five stacks with `cdk deploy --all` (see docs/deploy.md)
	$(CDK) deploy --all

cost: synth ## print the monthly AWS cost of the synthesized stacks, idle and per extra task
	go run ./infra/cmd/cost -dir cdk.out

tools: $(BIN)/staticcheck $(BIN)/actionlint

$(BIN)/staticcheck:
	GOBIN=$(BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(BIN)/actionlint:
	GOBIN=$(BIN) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

prereqs-run:
	@scripts/prereqs go ffmpeg

prereqs-test:
	@scripts/prereqs go node ffmpeg
	@$(MAKE) --no-print-directory node_modules/.package-lock.json
