# vmsim: build, demo, test, bench, install. Every target first installs
# missing Debian packages (as root) or prints the command to do so.
BUILD   ?= build
ASAN    ?= build-asan
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

SEEDS   ?= 1-500
LONG_SEEDS ?= 1-10000
LONG_STEPS ?= 200
FUZZ_SECONDS ?= 60

.PHONY: all deps demo test test-fast bench equiv ab screenshots difftest difftest-long fuzz install clean pictures

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@sh scripts/install-deps.sh

demo: all
	./$(BUILD)/vmsim demo

# The tests, then the same tests again under AddressSanitizer + UBSan.
test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DVMSIM_SANITIZE=ON >/dev/null
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS)

test-fast: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	cmake -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)-bench -j $(JOBS) --target vmsim-bench vmsim_tool -- --no-print-directory
	@mkdir -p $(BUILD)
	./$(BUILD)-bench/vmsim-bench --json $(BUILD)/bench.json
	sh bench/report.sh ./$(BUILD)-bench/vmsim $(BUILD)

# The equivalence check for speed work (docs/equiv.md): the working tree
# against REV (default: the merge base of HEAD and main), both built under
# build-equiv/; the random digest, run --json of the examples, replay --json
# of traces. Exit 0: nothing a user sees changed. EQUIV_OPTS go to
# scripts/equiv.sh (--asan, --seeds A-B, --steps N, --trace SEED, --no-tools).
equiv: deps
	sh scripts/equiv.sh $(EQUIV_OPTS) $(REV)

# Speed of the working tree against REV, both libraries in one program,
# timed in turns (bench/ab/ab.c): AB_ROW is miss (default) or hit, AB_OPTS
# the rounds, MiB and loads per round (scripts/ab.sh --help).
AB_ROW ?= miss
ab: deps
	sh scripts/ab.sh $(REV) -- $(AB_ROW) $(AB_OPTS)

# The screenshots of the HTML report's views in docs/img/, taken by the
# report's browser test (needs chromium).
screenshots: all
	sh tests/report/browser.sh ./$(BUILD)/vmsim "$$(command -v chromium || command -v chromium-browser)" $(BUILD)/report-test
	cp $(BUILD)/report-test/report-*.png docs/img/

# Random operation sequences on vmsim and on this machine's kernel, compared
# step by step; the last line says "N passed, M failed".
difftest: all
	./$(BUILD)/vmsim-difftest --seeds $(SEEDS)

# The long run: the default mix at 200 steps over 10,000 seeds, the range
# split among JOBS niced processes (one per core), one closing line. Override
# with LONG_SEEDS=A-B (or SEEDS=A-B), LONG_STEPS=N; DIVERGED=DIR keeps each
# minimal scenario as DIR/seed-N.txt; LONG_OPTS go to the tester (e.g.
# --no-shrink, which keeps whole sequences instead).
difftest-long: all
	JOBS=$(JOBS) sh scripts/difftest-long.sh ./$(BUILD)/vmsim-difftest $(if $(filter command line environment,$(origin SEEDS)),$(SEEDS),$(LONG_SEEDS)) $(LONG_STEPS) '$(DIVERGED)' $(LONG_OPTS)

# Each fuzz target (fuzz/) for FUZZ_SECONDS, built with clang's libFuzzer in
# $(BUILD)-fuzz, whose corpus/ keeps what it finds and crashes/ what fails;
# FUZZ_TARGET=NAME runs one. fuzz/README.md says more.
fuzz: deps
	sh fuzz/run.sh fuzz $(BUILD)-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGET)

# The README's picture (docs/img/page-walk.svg), redrawn by the tool; the
# test readme_picture fails when it is not what the tool draws now.
pictures: all
	sh scripts/readme-picture.sh ./$(BUILD)/vmsim docs/img/page-walk.svg

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN) $(BUILD)-bench $(BUILD)-fuzz build-equiv
