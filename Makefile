# spamhints: the PostgreSQL extension (PGXS) and the loader.
#
#   make              build the extension, the loader and the capture generator
#   make install      install the extension into PostgreSQL, the loader into $(PREFIX)/bin
#   make demo         the main job on a demo capture (installs packages, starts a throwaway cluster)
#   make test         every test suite (installs packages, starts a throwaway cluster)
#   make bench        the loading benchmark against the ceiling and the peers (bench/run.sh)
#   make unit         the C unit tests under AddressSanitizer and UBSan
#   make fuzz         every libFuzzer target for FUZZ_SECONDS each (default 120; clang, ASan, UBSan)
#   make installcheck pg_regress against a running server (PGHOST/PGPORT)

EXTENSION   = spamhints
EXTVERSION  = 0.1
PREFIX     ?= /usr/local

MODULE_big  = spamhints
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c)))
DATA_built  = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*--*.sql))
REGRESS     = $(patsubst tests/regress/sql/%.sql,%,$(sort $(wildcard tests/regress/sql/*.sql)))
REGRESS_OPTS = --inputdir=tests/regress --outputdir=tests/regress --load-extension=pgtap
PG_CPPFLAGS = -I$(srcdir)/extension
SHLIB_LINK  = -lmaxminddb
EXTRA_CLEAN = $(LOADER) $(GENERATOR) $(LOADER_OBJS) tests/unit/build tests/fuzz/build tests/regress/results \
              tests/regress/regression.diffs tests/regress/regression.out

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# ---------------------------------------------------------------------------
# The loader and the generator: plain C99, warnings are errors.
# ---------------------------------------------------------------------------
LOADER        = loader/spamhints-load
LOADER_DIRS   = loader loader/common loader/capture loader/maillog
LOADER_SRCS   = $(sort $(foreach d,$(LOADER_DIRS),$(wildcard $(d)/*.c)))
LOADER_HDRS   = $(foreach d,$(LOADER_DIRS),$(wildcard $(d)/*.h))
# What the loader and the extension must agree on (extension/shared/): a change
# rebuilds both.
SHARED_HDRS   = $(wildcard extension/shared/*.h)
LOADER_OBJS   = $(LOADER_SRCS:.c=.lo)
GENERATOR     = tests/gen/spamhints-gen
LOADER_CC    ?= cc
LOADER_INC    = $(addprefix -I,$(filter-out loader,$(LOADER_DIRS))) -Iextension
LOADER_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
LOADER_PQINC := $(shell $(PG_CONFIG) --includedir 2>/dev/null)
LOADER_LIBS   = -lpq -lpcap -lmaxminddb -lcrypto -lpthread

.PHONY: all loader generator install-loader unit test demo bench fuzz

all: loader generator

loader: $(LOADER)
generator: $(GENERATOR)

loader/%.lo: loader/%.c $(LOADER_HDRS) $(SHARED_HDRS)
	$(LOADER_CC) $(LOADER_CFLAGS) $(LOADER_INC) -I$(LOADER_PQINC) -c -o $@ $<

$(LOADER): $(LOADER_OBJS)
	$(LOADER_CC) $(LOADER_CFLAGS) -o $@ $^ $(LOADER_LIBS)

$(GENERATOR): tests/gen/spamhints-gen.c
	$(LOADER_CC) $(LOADER_CFLAGS) -o $@ $< -lpcap -lm

install: install-loader
install-loader: $(LOADER)
	install -d '$(DESTDIR)$(PREFIX)/bin'
	install -m 755 $(LOADER) '$(DESTDIR)$(PREFIX)/bin/spamhints-load'

unit:
	$(MAKE) -C tests/unit run

test:
	bash tests/run.sh

FUZZ_SECONDS ?= 120
fuzz:
	bash tests/lib/deps.sh
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

demo:
	bash tests/demo.sh

bench:
	bash bench/run.sh

# PGXS does not track headers: the extension's objects depend on all of them
# (census_core.h's inline functions above all)
$(OBJS): $(wildcard extension/*.h) $(SHARED_HDRS)

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	sed -e '1s|^-- sql/$(EXTENSION).sql.*|-- $@: generated from sql/$(EXTENSION).sql, do not edit|' $< > $@

ifneq ($(PGXS),)
include $(PGXS)
else
$(warning pg_config not found: the extension is not built; run 'make test' or 'make demo', which install it)
endif
