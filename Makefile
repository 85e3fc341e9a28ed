# scrapewatch - build, test, demo.
#
#   make            build ./scrapewatch
#   make demo       run the sensor on a bundled capture and show what it saw
#   make test       build and run every test (ends with "N passed, N failed")
#   make asan       the whole test suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      decode throughput, and events/s into Redis, as ratios
#                   against reference runs; live capture drops (as root)
#   make soak       the Redis loss loops (kill -9, spool damage) for SOAK_ROUNDS
#                   rounds each instead of make test's few
#   make deps       install missing Debian packages (as root) or name them

CC      ?= cc
BUILD   ?= build
PKGS    := libpcap libndpi hiredis libconfig
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
SAN     ?=
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -pthread \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# MongoDB compressors: libzstd has a pkg-config file, Debian's snappy does not;
# Cassandra: lz4 (liblz4) and snappy
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz \
           $(shell pkg-config --libs libzstd 2>/dev/null || echo -lzstd) \
           $(shell pkg-config --libs liblz4 2>/dev/null || echo -llz4) \
           $(shell pkg-config --libs snappy 2>/dev/null || echo -lsnappy) -pthread -lm
LDFLAGS := $(SAN)

LIB_SRC  := $(filter-out sensor/main.c,$(wildcard sensor/*.c)) $(wildcard sensor/base/*.c) \
            $(wildcard decoders/*.c decoders/*/*.c) $(wildcard rules/*.c)
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HEADERS  := $(wildcard sensor/*.h sensor/base/*.h decoders/*.h decoders/*/*.h rules/*.h \
              tests/unit/*.h)

.PHONY: all test asan fuzz demo deps clean unit bench soak

all: scrapewatch

scrapewatch: $(BUILD)/scrapewatch
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/scrapewatch ./scrapewatch; fi

$(BUILD)/scrapewatch: $(BUILD)/sensor/main.o $(BUILD)/libsw.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libsw.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsw.a $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsw.a $(LDLIBS)

unit: $(UNIT_BIN)

deps:
	@tests/deps.sh build

test: deps
	@$(MAKE) --no-print-directory all unit
	@tests/run.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run.sh build-asan

FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(HEADERS)
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libsw.a
	clang $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libsw.a $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh $(BENCH_CAPTURE)
	@tests/redis/bench.sh
	@tests/bench/live.py ./scrapewatch

SOAK_ROUNDS ?= 20
soak: deps
	@$(MAKE) --no-print-directory all
	@SW_SOAK=$(SOAK_ROUNDS) tests/redis/run.sh $(BUILD)/scrapewatch kill9_sensor_loop_accounted \
		kill9_redis_loop_exactly_once corrupt_spool_resync

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

clean:
	rm -rf build build-asan build-fuzz scrapewatch tests/out
