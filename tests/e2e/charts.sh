#!/usr/bin/env bash
# tests/e2e/charts.sh: chart_svg() and bars_svg() draw valid SVG: parsed by
# Python's XML parser, every bar's height its share of the tallest computed
# here by hand, tooltips and labels as given, hostile titles and labels kept
# as text; headless Chromium renders the chart, and the screenshot shows the
# bars (pixels of the bar colour, as many columns of them as bars drawn).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db=spamhints_e2e_charts
dropdb --if-exists $db 2>/dev/null; createdb $db && psql -qX -d $db -c 'CREATE EXTENSION spamhints' || exit 1
q() { psql -X -d $db -Atc "$1"; }

# the checks on one SVG: bars (label, count) expected, the title expected
check() {
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, title, expected = sys.argv[1], sys.argv[2], sys.argv[3]
pairs = [p.rsplit("=", 1) for p in expected.split("|")]
ns = "{http://www.w3.org/2000/svg}"
try:
    root = ET.parse(path).getroot()
except ET.ParseError as e:
    print(f"# not XML: {e}"); sys.exit(1)
bad = []
if root.tag != ns + "svg":
    bad.append(f"root {root.tag}")
if root.find(ns + "title").text != title:
    bad.append(f"title {root.find(ns + 'title').text!r}")
if root.find(f".//{ns}script") is not None or any(k.startswith("on") for e in root.iter() for k in e.attrib):
    bad.append("script or event handler")
bars = [e for e in root.iter(ns + "rect") if e.get("class") == "bar"]
if len(bars) != len(pairs):
    bad.append(f"{len(bars)} bars, not {len(pairs)}")
peak = max(int(c) for _, c in pairs)
for bar, (label, count) in zip(bars, pairs):
    want = round(int(count) * 180 / peak) if peak else 0
    if float(bar.get("height")) != want:
        bad.append(f"{label}: height {bar.get('height')}, not {want}")
    if float(bar.get("y")) + float(bar.get("height")) != 220:
        bad.append(f"{label}: not standing on the axis")
    if bar.find(ns + "title").text != f"{label}: {count}":
        bad.append(f"{label}: tooltip {bar.find(ns + 'title').text!r}")
xs = [float(b.get("x")) for b in bars]
if xs != sorted(xs) or len(set(xs)) != len(xs):
    bad.append("bars not left to right")
for b in bad[:5]:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
}

counts="5 0 0 0 0 0 3 9 20 31 28 25 22 24 26 30 27 18 12 9 7 6 4 90"
q "SELECT spamhints.chart_svg('{$(echo $counts | tr ' ' ,)}'::spamhints.hist24, 'one address by hour')" >"$tmp/h.svg"
check "$tmp/h.svg" "one address by hour" "$(paste -d= <(seq 0 23) <(tr ' ' '\n' <<<"$counts") | paste -sd'|')"
ok $? "chart_svg: 24 bars, each its share of the peak (90 at 23h: 180 px), hour and count as tooltip"
grep -q '>total 396, peak 90<' "$tmp/h.svg"; ok $? "  and the total and peak written out (396, 90)"

q "SELECT spamhints.chart_svg('{}'::spamhints.hist24)" >"$tmp/zero.svg"
check "$tmp/zero.svg" "samples by hour of day" "$(paste -d= <(seq 0 23) <(yes 0 | head -24) | paste -sd'|')"
ok $? "an empty hist24: 24 bars of height 0, the default title"
is "$(q "SELECT spamhints.chart_svg(NULL) IS NULL")" t "chart_svg(NULL) is NULL"

hostile=$'</title><script>alert(1)</script> & "x" \x01\x1b\u2028'
q "SELECT spamhints.bars_svg(ARRAY['<b>', 'a&b', '\"q\"'], ARRAY[1, 2, 3]::bigint[], \$\$$hostile\$\$)" >"$tmp/hostile.svg"
check "$tmp/hostile.svg" $'</title><script>alert(1)</script> & "x" \u2028' '<b>=1|a&b=2|"q"=3'
ok $? "bars_svg: markup in the title and labels stays text, the characters XML forbids are dropped"

is "$(q "SELECT spamhints.bars_svg(NULL, ARRAY[1]::bigint[]) IS NULL")" t "bars_svg(NULL, ...) is NULL"
for bad in "ARRAY['a'], ARRAY[1, 2]::bigint[]|as many labels as counts" "ARRAY['a'], ARRAY[-1]::bigint[]|zero or more" \
           "'{}'::text[], '{}'::bigint[]|1 to 2000 bars" "ARRAY['a'], ARRAY[NULL]::bigint[]|zero or more"; do
  psql -X -d $db -v VERBOSITY=verbose -Atc "SELECT spamhints.bars_svg(${bad%|*})" >/dev/null 2>"$tmp/err"
  grep -q "22023: bars_svg() .*${bad#*|}" "$tmp/err"; ok $? "bars_svg(${bad%|*}): error 22023 ($(grep -o 'ERROR:.*' "$tmp/err" | head -1))"
done

# 400 days: labels thinned so they do not overlap, every bar still drawn
q "SELECT spamhints.bars_svg(array_agg(d::date::text ORDER BY d), array_agg((extract(doy FROM d))::bigint ORDER BY d), 'a year')
   FROM generate_series('2024-01-01'::date, '2025-02-03', '1 day') d" >"$tmp/year.svg"
python3 - "$tmp/year.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
bars = [e for e in root.iter(ns + "rect") if e.get("class") == "bar"]
labels = [e for e in root.iter(ns + "text") if e.get("text-anchor") == "middle"]
xs = [float(e.get("x")) for e in labels]
gaps = [b - a for a, b in zip(xs, xs[1:])]
print(f"# {len(bars)} bars, {len(labels)} labels, narrowest gap {min(gaps):.0f} px")
sys.exit(0 if len(bars) == 400 and 0 < len(labels) < 400 and min(gaps) >= 60 else 1)
PY
ok $? "400 bars: every bar drawn, labels 10 characters wide at least 60 px apart"

# Chromium draws it: the screenshot has the bars' colour in as many columns as bars drawn
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=760,270 \
    --screenshot="$tmp/h.png" "file://$tmp/h.svg" >"$tmp/chromium.log" 2>&1
  # Pillow reads the PNG: Debian's python3-pil (tests/lib/deps.sh), whichever python3 comes first
  pil=python3; python3 -c 'import PIL' 2>/dev/null || pil=/usr/bin/python3
  "$pil" - "$tmp/h.png" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
blue = lambda p: abs(p[0] - 0x33) < 24 and abs(p[1] - 0x66) < 24 and abs(p[2] - 0xaa) < 24
cols = [x for x in range(w) if any(blue(px[x, y]) for y in range(h))]
runs = sum(1 for i, x in enumerate(cols) if i == 0 or x != cols[i - 1] + 1)
colours = len(set(im.getdata()))
print(f"# {w}x{h}, {colours} colours, bar-coloured columns in {runs} runs")
# 23 hours have samples; hours 1-5 are 0 (no bar), so 19 separate bars
sys.exit(0 if colours > 3 and runs == 19 else 1)
PY
  ok $? "headless Chromium renders chart_svg: 19 separate bars of the bar colour (the 5 empty hours draw none)"
else
  ok 0 "# SKIP chromium is not installed (tests/lib/deps.sh installs it)"
fi
tap_done
