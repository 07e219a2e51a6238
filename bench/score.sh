#!/usr/bin/env bash
# bench/score.sh: the evaluation of the bounds and the sender score.
#
#   1. Coverage of the 95% bounds (bench/coverage.c): streams of T packets
#      re-sampled at 1 in N, COVERAGE_R times per bucket of T / N from 5 to
#      10,000 (default 20,000; the target: 94% to 96%), exact and mid-p.
#   2. spamhints.sender_score() on a generated capture whose generator labels
#      every host (spamhints-gen --labels: spam bots, mail servers, relays,
#      open servers, ordinary clients; synthetic behaviour, see the
#      generator), at the generator's sampling rates (1 in 256 to 16,384),
#      loaded as spamhints-load loads it: detection of the spam bots at 0.3%
#      and 1% false positives among the non-spamming addresses (mail servers,
#      relays, ordinary clients) with at least the minimum samples, without
#      customer data and with bounded leases for the access networks'
#      addresses (the ISP's dynamic pools); open servers are neither.
#   3. The same against the mail logs' verdicts joined to the samples: mail
#      logs (tests/gen/spamhints-maillog-gen) of a share of the scored
#      addresses, spam or virus from the bots, clean mail from the others,
#      loaded with spamhints-load --maillog; an address with a spam or virus
#      verdict is a spammer, one with only clean mail is not. (The verdicts
#      come from the same labels: this checks the join of verdicts to
#      samples, it is no second truth.)
#   4. The ROC curves as SVG in bench/out/score-roc.svg (checked with
#      python3's XML parser), drawn by headless Chromium into
#      bench/out/score-roc.png (each curve's colour must show; the script
#      fails otherwise).
#
#   bash bench/score.sh                 (make bench runs it too: PARTS=score)
#   SEEDS="16 17" SMTP=400000 MIN_SAMPLES=20 COVERAGE_R=10000 bash bench/score.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-16 17}
SMTP=${SMTP:-200000}
OTHER=${OTHER:-100000}
MIN_SAMPLES=${MIN_SAMPLES:-10}
COVERAGE_R=${COVERAGE_R:-20000}
LOADER=${LOADER:-loader/spamhints-load}
mkdir -p bench/out
tmp=$(mktemp -d /tmp/spamhints-score.XXXXXX)
chmod 755 "$tmp"

make -s loader generator
cc -std=c11 -O2 -Wall -Wextra -Werror -Iextension -o "$tmp/coverage" bench/coverage.c extension/bounds_core.c -lm

echo "== 1. coverage of the 95% bounds: T packets re-sampled at 1 in N, $COVERAGE_R streams a bucket"
"$tmp/coverage" "$COVERAGE_R" 16

source tests/lib/pgcluster.sh
pg_start
trap 'pg_stop; rm -rf "$tmp"' EXIT
psql -qX -c "CREATE EXTENSION spamhints"
export PGOPTIONS="-c TimeZone=UTC -c client_min_messages=warning"

: >"$tmp/roc.tsv"
for seed in $SEEDS; do
  tests/gen/spamhints-gen --seed "$seed" --smtp "$SMTP" --other "$OTHER" --labels "$tmp/labels-$seed.tsv" \
    -o "$tmp/l-$seed.pcap"
  psql -qX -c "TRUNCATE spamhints.smtp_sample, spamhints.load CASCADE" -c "DELETE FROM spamhints.ip_assignment" \
    -c "TRUNCATE spamhints.mail_event, spamhints.maillog_load CASCADE"
  "$LOADER" --no-progress "$tmp/l-$seed.pcap" >/dev/null
  psql -qX -v ON_ERROR_STOP=1 -v min="$MIN_SAMPLES" -v seed="$seed" -v labels="$tmp/labels-$seed.tsv" <<'SQL' >/dev/null
DROP TABLE IF EXISTS lab, scored_plain, scored_lease;
CREATE TABLE lab (ip inet PRIMARY KEY, label text, net_kind text);
\set cmd '\\copy lab FROM ' :'labels'
:cmd
CREATE TABLE scored_plain AS SELECT * FROM spamhints.sender_score('2007-03-14', '2007-03-16', :min);
-- the ISP's dynamic pools: the addresses of access networks, on a lease of the capture's day
INSERT INTO spamhints.ip_assignment (customer_id, network, during)
SELECT 'c' || row_number() OVER (ORDER BY ip), set_masklen(ip, 32)::cidr,
       tstzrange('2007-03-14 00:00+00', '2007-03-16 00:00+00')
FROM lab WHERE net_kind = 'access';
CREATE TABLE scored_lease AS SELECT * FROM spamhints.sender_score('2007-03-14', '2007-03-16', :min);
SQL
  # the mail logs: a third of the scored addresses sent mail to our servers
  psql -XAt -F ' ' -c "SELECT host(s.ip), CASE WHEN l.label = 'spam_bot' THEN CASE WHEN hashtext(host(s.ip)) % 10 = 0 THEN 'virus' ELSE 'spam' END ELSE 'clean' END,
                            1 + abs(hashtext(host(s.ip) || 'n')) % 3
                       FROM scored_plain s JOIN lab l USING (ip)
                       WHERE NOT s.abstained AND l.label <> 'open_server' AND abs(hashtext(host(s.ip))) % 3 = 0
                       ORDER BY 1" >"$tmp/clients-$seed.tsv"
  tests/gen/spamhints-maillog-gen --seed "$seed" --date 2007-03-14 --timezone UTC \
    --clients "$tmp/clients-$seed.tsv" --exim "$tmp/mainlog" --postfix "$tmp/maillog"
  "$LOADER" --no-progress --maillog exim --timezone UTC --host mx1 "$tmp/mainlog" >/dev/null
  "$LOADER" --no-progress --maillog postfix --timezone UTC --year 2007 "$tmp/maillog" >/dev/null

  echo
  echo "== 2./3. sender_score on the labelled capture, seed $seed ($SMTP SMTP among $((SMTP + OTHER)) sampled packets, min_samples $MIN_SAMPLES)"
  psql -X -P footer=off -v min="$MIN_SAMPLES" <<'SQL'
SELECT l.label, count(*) AS clients, count(*) FILTER (WHERE NOT s.abstained) AS scored,
       round(avg(s.score)::numeric, 3) AS mean_score, round(avg(s.server_networks) FILTER (WHERE NOT s.abstained), 1) AS networks,
       round(avg(s.syn_share) FILTER (WHERE NOT s.abstained)::numeric, 3) AS syn_share,
       round(avg(s.rst_share) FILTER (WHERE NOT s.abstained)::numeric, 3) AS rst_share,
       round(avg(s.hour_spread) FILTER (WHERE NOT s.abstained)::numeric, 3) AS hour_spread,
       round(avg(s.client_only::int) FILTER (WHERE NOT s.abstained)::numeric, 3) AS client_only
FROM scored_lease s JOIN lab l USING (ip) GROUP BY 1 ORDER BY 1;
SQL
  psql -qXAt -F $'\t' -v seed="$seed" <<'SQL' >>"$tmp/roc.tsv"
-- truth by the generator's labels, and by the mail logs' verdicts
CREATE TEMP VIEW verdict AS
SELECT client_ip AS ip, bool_or(verdict IN ('spam', 'virus')) AS spam, bool_and(verdict = 'clean') AS clean
FROM spamhints.mail_event WHERE client_ip IS NOT NULL GROUP BY 1;
CREATE TEMP VIEW cases AS
SELECT 'labels, no customer data' AS truth, s.score, l.label = 'spam_bot' AS positive
FROM scored_plain s JOIN lab l USING (ip) WHERE NOT s.abstained AND l.label <> 'open_server'
UNION ALL
SELECT 'labels, leases', s.score, l.label = 'spam_bot'
FROM scored_lease s JOIN lab l USING (ip) WHERE NOT s.abstained AND l.label <> 'open_server'
UNION ALL
SELECT 'mail-log verdicts, leases', s.score, v.spam
FROM scored_lease s JOIN verdict v USING (ip) WHERE NOT s.abstained AND (v.spam OR v.clean);
-- one ROC point per distinct score: "score >= t" called a spammer
SELECT :seed, c.truth, t.score,
       count(*) FILTER (WHERE NOT c.positive AND c.score >= t.score)::float8 / nullif(count(*) FILTER (WHERE NOT c.positive), 0),
       count(*) FILTER (WHERE c.positive AND c.score >= t.score)::float8 / nullif(count(*) FILTER (WHERE c.positive), 0),
       count(*) FILTER (WHERE c.positive), count(*) FILTER (WHERE NOT c.positive)
FROM cases c
JOIN (SELECT DISTINCT truth, score FROM cases) t ON t.truth = c.truth
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3 DESC;
SQL
done

python3 - "$tmp/roc.tsv" bench/out/score-roc.svg <<'PY'
import sys, xml.etree.ElementTree as ET
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
curves = {}
for seed, truth, score, fpr, tpr, npos, nneg in rows:
    curves.setdefault((seed, truth), {"pts": [], "npos": int(npos), "nneg": int(nneg)})["pts"].append((float(fpr), float(tpr), float(score)))
print()
print("== detection: spam bots called at the score threshold that keeps false positives at or under the rate")
print("%-5s %-27s %9s %9s %13s %13s %11s %11s" % ("seed", "truth", "spammers", "others", "TPR @ 0.3%", "TPR @ 1%", "t @ 0.3%", "t @ 1%"))
for (seed, truth), c in curves.items():
    out = [seed, truth, c["npos"], c["nneg"]]
    best = {}
    for rate in (0.003, 0.01):
        ok = [(tpr, s) for fpr, tpr, s in c["pts"] if fpr <= rate + 1e-12]
        best[rate] = max(ok) if ok else (0.0, float("nan"))
    print("%-5s %-27s %9d %9d %12.1f%% %12.1f%% %11.4f %11.4f" % (seed, truth, c["npos"], c["nneg"],
          100 * best[0.003][0], 100 * best[0.01][0], best[0.003][1], best[0.01][1]))
# the SVG: false positive rate on a log axis from 0.01% to 100%, true positive rate linear
import math
W, H, L, T, PW, PH = 640, 420, 70, 40, 520, 320
def x(f): return L + PW * (math.log10(max(f, 1e-4)) + 4) / 4
def y(t): return T + PH * (1 - t)
colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-labelledby="t">' % (W, H, W, H),
       '<title id="t">sender_score ROC: spam bots against mail servers, relays and ordinary clients</title>',
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="%d" y="24" font-family="sans-serif" font-size="15">sender_score ROC (generated, labelled capture)</text>' % L]
for f in (1e-4, 1e-3, 3e-3, 1e-2, 1e-1, 1):
    svg.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x(f), T, x(f), T + PH))
    svg.append('<text x="%.1f" y="%d" font-family="sans-serif" font-size="11" text-anchor="middle">%g%%</text>' % (x(f), T + PH + 16, 100 * f))
for t in (0, 0.25, 0.5, 0.75, 1):
    svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, y(t), L + PW, y(t)))
    svg.append('<text x="%d" y="%.1f" font-family="sans-serif" font-size="11" text-anchor="end">%d%%</text>' % (L - 6, y(t) + 4, 100 * t))
svg.append('<text x="%d" y="%d" font-family="sans-serif" font-size="12" text-anchor="middle">false positive rate (log)</text>' % (L + PW // 2, H - 8))
svg.append('<text x="16" y="%d" font-family="sans-serif" font-size="12" transform="rotate(-90 16 %d)" text-anchor="middle">spam bots detected</text>' % (T + PH // 2, T + PH // 2))
for i, ((seed, truth), c) in enumerate(curves.items()):
    col = colours[i % len(colours)]
    pts = sorted((f, t) for f, t, _ in c["pts"])
    path = " ".join("%.1f,%.1f" % (x(f), y(t)) for f, t in [(0, 0)] + pts)
    svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (col, path))
    svg.append('<text x="%d" y="%d" font-family="sans-serif" font-size="11" fill="%s">seed %s, %s</text>' % (L + PW - 250, T + PH - 60 + 14 * i, col, seed, truth.replace("&", "&amp;")))
svg.append('</svg>')
open(sys.argv[2], "w").write("\n".join(svg) + "\n")
ET.parse(sys.argv[2])
print("ROC curves: %s (well-formed XML)" % sys.argv[2])
PY

# headless Chromium draws the ROC SVG: the screenshot must show every curve's
# colour (as tests/e2e/charts.sh checks chart_svg)
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=640,420 \
    --screenshot="$tmp/roc.png" "file://$PWD/bench/out/score-roc.svg" >"$tmp/chromium.log" 2>&1
  cp "$tmp/roc.png" bench/out/score-roc.png
  pil=python3; python3 -c 'import PIL' 2>/dev/null || pil=/usr/bin/python3
  "$pil" - bench/out/score-roc.png bench/out/score-roc.svg <<'PY'
import sys, re
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
curves = re.findall(r'<polyline fill="none" stroke="#([0-9a-f]{6})"', open(sys.argv[2]).read())
def near(p, c):
    return all(abs(p[i] - int(c[2 * i:2 * i + 2], 16)) < 24 for i in range(3))
seen = {c: sum(1 for p in px if near(p, c)) for c in curves}
print("Chromium: %dx%d, %d colours; pixels of each curve's colour: %s" % (im.size[0], im.size[1], len(set(px)),
      ", ".join("#%s %d" % (c, n) for c, n in seen.items())))
# every curve's colour shows (its legend at least: equal curves hide each other)
# and the curves are drawn (hundreds of pixels of their colours)
sys.exit(0 if curves and len(set(px)) > 3 and all(n >= 20 for n in seen.values())
         and sum(seen.values()) >= 500 else 1)
PY
  echo "ROC rendered by headless Chromium: bench/out/score-roc.png"
else
  echo "ROC not rendered: chromium is not installed (tests/lib/deps.sh installs it)"
fi
