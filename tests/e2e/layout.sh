#!/usr/bin/env bash
# tests/e2e/layout.sh: the layout promises of README's "Where things are".
#   - what the loader and the extension share (extension/shared/*.h) rebuilds both;
#   - no source names a work item or a slide: comments say what a thing answers;
#   - regression files are numbered uniquely;
#   - README's "Where things are" names every folder of the tree.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh

make -s all spamhints.so >/dev/null 2>&1
ok $? "the tree builds"

# make -n: what a change of each shared header would rebuild
for h in extension/shared/*.h; do
  base=$(make -n all spamhints.so 2>/dev/null | grep -cE -- '-o (loader/.*\.lo|extension/.*\.o) ')
  is "$base" 0 "built: nothing to rebuild before touching $h"
  touch "$h"
  plan=$(make -n all spamhints.so 2>/dev/null)
  echo "$plan" | grep -qE -- '-o loader/[a-z/_]+\.lo '; ok $? "touching $h rebuilds the loader"
  echo "$plan" | grep -qE -- '-o extension/[a-z_]+\.o '; ok $? "touching $h rebuilds the extension"
  make -s all spamhints.so >/dev/null 2>&1
done

words=$(grep -rniwlE 'slides?|issues?' sql/ extension/ loader/ --include='*.c' --include='*.h' --include='*.sql' \
        --exclude='spamhints--*.sql' 2>/dev/null)
is "$words" "" "no C or SQL source says \"slide\" or \"issue\""

dups=$(ls tests/regress/sql/*.sql | sed 's|.*/\([0-9]*\)_.*|\1|' | sort | uniq -d | tr '\n' ' ')
is "$dups" "" "regression files are numbered uniquely"

section=$(sed -n '/^## Where things are/,/^## /p' README.md)
[ -n "$section" ]; ok $? "README has a \"Where things are\" section"
for d in $(git ls-files | xargs -n1 dirname | sort -u | grep -vE '^\.|/regressions|^tests/regress/(sql|expected)$|^tests/data/'); do
  echo "$section" | grep -qF -- "$d/"; ok $? "README's \"Where things are\" names $d/"
done

tap_done
