# scrapewatch - build, test, demo.
#
#   make            build ./scrapewatch
#   make demo       run the sensor on a bundled capture and show what it saw
#   make test       build and run every test (ends with "N passed, N failed")
#   make asan       the whole test suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      one table per capture (mixed capture of BENCH_MB MB, SYN
#                   flood): packets/s, CPU, peak RSS as ratios to a bare
#                   libpcap read loop, ndpiReader, tshark, 1..cores workers;
#                   then decode throughput per workload and events/s into
#                   Redis (markdown; docs/bench.md is one run); live
#                   capture drops at top speed (as root)
#   make soak       the Redis loss loops (kill -9, spool damage) for SOAK_ROUNDS
#                   rounds each instead of make test's few
#   make deps       install missing Debian packages (as root) or name them
#   make man        the man pages, from docs/ (build/man/)
#   make install    binary, report tool, configuration, rules, man pages, systemd unit
#                   (PREFIX=/usr/local, DESTDIR for staging)
#   make deb        the Debian package (dpkg-buildpackage -us -uc -b), into ..

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

# Where make install puts things; the rule file and lists are looked up in
# SYSCONFDIR, then DATADIR (sensor/paths.h), compiled into sensor/paths.o.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share/scrapewatch
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc/scrapewatch
DEFAULTDIR  ?= /etc/default
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
PATHS_DEFS  := -DSW_DATADIR='"$(DATADIR)"' -DSW_SYSCONFDIR='"$(SYSCONFDIR)"'

LIB_SRC  := $(filter-out sensor/main.c,$(wildcard sensor/*.c)) $(wildcard sensor/base/*.c) \
            $(wildcard decoders/*.c decoders/*/*.c) $(wildcard rules/*.c)
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HEADERS  := $(wildcard sensor/*.h sensor/base/*.h decoders/*.h decoders/*/*.h rules/*.h \
              tests/unit/*.h)

.PHONY: all test asan fuzz demo deps clean unit bench soak man install deb FORCE

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

# paths.o is rebuilt when the directories change (make PREFIX=/usr).
$(BUILD)/paths.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(PATHS_DEFS)' | cmp -s - $@ || echo '$(PATHS_DEFS)' > $@
$(BUILD)/sensor/paths.o: CFLAGS += $(PATHS_DEFS)
$(BUILD)/sensor/paths.o: $(BUILD)/paths.flags

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

# FORCE: the library is made by a sub-make, so this target cannot see it
# change; relinking every time keeps a fuzzer from running stale code.
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(HEADERS) FORCE
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libsw.a
	clang $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libsw.a $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

$(BUILD)/pcap_count: tests/bench/pcap_count.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

BENCH_MB ?= 512
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/pcap_count
	@MIXED_MB=$(BENCH_MB) BUILD=$(BUILD) tests/bench/run.sh $(BENCH_CAPTURE)
	@if [ -z "$(BENCH_CAPTURE)" ]; then echo; echo '## Events into Redis'; echo; echo '```'; \
		tests/redis/bench.sh; echo '```'; fi
	@if [ -z "$(BENCH_CAPTURE)" ]; then tests/bench/live.py ./scrapewatch; fi

SOAK_ROUNDS ?= 20
soak: deps
	@$(MAKE) --no-print-directory all
	@SW_SOAK=$(SOAK_ROUNDS) tests/redis/run.sh $(BUILD)/scrapewatch kill9_sensor_loop_accounted \
		kill9_redis_loop_exactly_once corrupt_spool_resync

MAN_PAGES := $(BUILD)/man/scrapewatch.8 $(BUILD)/man/scrapewatch.conf.5 \
             $(BUILD)/man/scrapewatch-rules.5 $(BUILD)/man/scrapewatch-report.1

$(BUILD)/man/%: docs/%.md docs/mkman.py config/scrapewatch.conf
	@mkdir -p $(dir $@)
	python3 docs/mkman.py $< config/scrapewatch.conf > $@

man: $(MAN_PAGES)

# The unit with this installation's paths.
$(BUILD)/scrapewatch.service: debian/dist/scrapewatch.service.in FORCE
	@mkdir -p $(BUILD)
	@sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	     -e 's|@DEFAULTDIR@|$(DEFAULTDIR)|g' $< > $@.tmp && mv $@.tmp $@

# Files in /etc that exist already are kept (a local configuration).
install: all man $(BUILD)/scrapewatch.service
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/lists $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DEFAULTDIR) $(DESTDIR)/etc/logrotate.d
	install -m 755 $(BUILD)/scrapewatch $(DESTDIR)$(SBINDIR)/scrapewatch
	sed '1s|.*|#!/usr/bin/python3|' sensor/report/scrapewatch-report > $(BUILD)/scrapewatch-report
	install -m 755 $(BUILD)/scrapewatch-report $(DESTDIR)$(BINDIR)/scrapewatch-report
	install -m 644 $(BUILD)/man/scrapewatch-report.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 rules/scrapewatch.rules $(DESTDIR)$(DATADIR)/scrapewatch.rules
	install -m 644 rules/lists/*.cidr rules/lists/*.patterns rules/lists/*.domains \
	    $(DESTDIR)$(DATADIR)/lists/
	install -m 644 $(BUILD)/man/scrapewatch.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(BUILD)/man/scrapewatch.conf.5 $(BUILD)/man/scrapewatch-rules.5 \
		$(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(BUILD)/scrapewatch.service $(DESTDIR)$(UNITDIR)/scrapewatch.service
	install -m 644 debian/dist/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/scrapewatch.conf
	@for f in $(SYSCONFDIR)/scrapewatch.conf:config/scrapewatch.conf \
	          $(DEFAULTDIR)/scrapewatch:debian/dist/default \
	          /etc/logrotate.d/scrapewatch:debian/dist/logrotate; do \
		to=$(DESTDIR)$${f%%:*}; from=$${f#*:}; \
		if [ -e "$$to" ]; then echo "  KEEP    $$to (exists)"; \
		else echo "  INSTALL $$to"; install -m 644 "$$from" "$$to"; fi; \
	done

deb:
	@tests/deps.sh deb
	dpkg-buildpackage -us -uc -b

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

clean:
	rm -rf build build-asan build-fuzz scrapewatch tests/out
