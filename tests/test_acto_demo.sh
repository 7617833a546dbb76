#!/bin/sh
# acto-demo end to end, in a temporary folder: a run on a small generated
# log whose report adds up exactly (lines read = parsed + quarantined, the
# quarantined lines being exactly the log's malformed ones, found here by
# a regular expression; a restart per crash; some geo asks timed out);
# the trace valid (acto-trace check, its stats agreeing), the Perfetto
# JSON strict and its arrows matched, the HTML whole; a log of one's own
# with known numbers; --no-trace; Ctrl-C in the middle of a run (the tree
# stops, the counts still add up, the trace is still written); --help,
# bad options and a missing input.
#
#   test_acto_demo.sh ACTO_DEMO ACTO_TRACE TRACE_JSON_CHECK
set -u
. "$(dirname "$0")/support/checks.sh"
DEMO=$1
TOOL=$2
JCHECK=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/acto-demo-test-XXXXXX") || exit 1
pid=
trap 'if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; fi; rm -rf "$dir"' EXIT
cd "$dir" || exit 1
export LC_ALL=C
# num REPORT LABEL: the number on the report's "LABEL:" line, no commas.
num() {
    sed -n "s/^$2: *\([0-9,]*\).*/\1/p" "$1" | tr -d ,
}
same() { # same DESCRIPTION A B
    if [ -n "$2" ] && [ "$2" = "$3" ]; then ok "$1 ($2)"; else
        fail "$1: '$2' != '$3'"; fi
}
above() { # above DESCRIPTION A B: A > B
    if [ -n "$2" ] && [ -n "$3" ] && [ "$2" -gt "$3" ]; then
        ok "$1 ($2 > $3)"; else fail "$1: '$2' not above '$3'"; fi
}

# ---- usage and errors --------------------------------------------------
expect 0 "--help exits 0" "$DEMO" --help
has out.txt "--input FILE" "--help lists --input"
has out.txt "--workers N" "--help lists --workers"
has out.txt "--out DIR" "--help lists --out"
has out.txt "--no-trace" "--help lists --no-trace"
expect 2 "an unknown option is bad usage" "$DEMO" --frobnicate
has err.txt "unknown option '--frobnicate'" "the unknown option is named"
expect 2 "--workers 0 is bad usage" "$DEMO" --workers 0
has err.txt "--workers takes a number from 1 to 64, not '0'" \
    "--workers' range is given"
expect 2 "an option without its value is bad usage" "$DEMO" --out
expect 2 "--sample 2 is bad usage" "$DEMO" --sample 2
expect 1 "a missing input file is an error" "$DEMO" --input nosuch.log \
    --out missing
has err.txt "cannot read --input nosuch.log: No such file or directory" \
    "the missing file is named"
expect 1 "a folder as input is an error" "$DEMO" --input . --out missing
has err.txt "cannot read --input \.: Is a directory" "the folder is named"
if [ -e missing/trace.acto ]; then fail "no trace for a run that never ran"
else ok "nothing traced for a run that never ran"; fi

# ---- a full run on a small generated log --------------------------------
expect 0 "a run on 8000 generated lines" "$DEMO" --lines 8000 --seed 7 \
    --workers 3 --sample 0.2 --out run
r=run/report.txt
has out.txt "^acto-demo: finished" "the summary says it finished"
has out.txt "ui.perfetto.dev" "the summary says where to open the JSON"
has out.txt "acto-trace.* stats run/trace.acto" \
    "the summary says how to read the trace"
has $r "outcome: finished" "the report says it finished"
read=$(num $r "lines read")
parsed=$(num $r "lines parsed")
quarantined=$(num $r "lines quarantined")
crashes=$(num $r "parser crashes")
restarts=$(num $r "parser restarts")
same "every line generated was read" "$read" 8000
same "lines read = parsed + quarantined" "$read" \
    $((${parsed:-0} + ${quarantined:-0}))
above "some lines were quarantined" "$quarantined" 0
same "a crash per quarantined line" "$crashes" "$quarantined"
if [ "${restarts:-0}" -ge "${crashes:-1}" ]; then ok "restarts >= crashes"
else fail "restarts $restarts < crashes $crashes"; fi
same "no line lost" "$(num $r "lines lost")" 0
same "every parsed line aggregated" "$(num $r "records aggregated")" "$parsed"
same "every parsed line reported" "$(num $r "records reported")" "$parsed"
asks=$(num $r "geo asks")
answers=$(num $r "geo answers")
timeouts=$(num $r "geo timeouts")
gfailed=$(num $r "geo failures")
same "geo asks = answers + timeouts + failures" "$asks" \
    $((${answers:-0} + ${timeouts:-0} + ${gfailed:-0}))
above "some geo asks timed out" "$timeouts" 0

# The quarantined lines are exactly the malformed ones.
good='^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3} [^ ]+ [^ ]+ \[[^]]*\] "[^ ]+ /[^ ]* [^"]*" [1-5][0-9][0-9] ([0-9]+|-) "[^"]*" ".+"$'
grep -Ev "$good" run/access.log | sort >bad.want
sort run/quarantine.log >bad.got
same "malformed lines in the log = lines quarantined" \
    "$(wc -l <bad.want | tr -d ' ')" "$quarantined"
if cmp -s bad.want bad.got; then ok "quarantine.log holds exactly them"
else fail "quarantine.log differs from the malformed lines"; fi

# The trace and its exports.
expect 0 "acto-trace check passes on the trace" "$TOOL" check run/trace.acto
expect 0 "acto-trace stats reads the trace" "$TOOL" stats run/trace.acto
has out.txt "failures $crashes, restarts $restarts" \
    "the trace has every crash and restart"
has out.txt "^geo " "the trace has the geo service"
has out.txt "^parse\.2 " "the trace has the third parser"
expect 0 "the Perfetto JSON is strict and its arrows match" \
    "$JCHECK" perfetto run/trace.json
has run/trace.json '"name":"future failed"' \
    "the Perfetto JSON shows the asks that timed out"
has run/trace.html "^<!DOCTYPE html>" "the HTML report begins"
has run/trace.html "</html>$" "the HTML report ends"

# ---- a log of one's own -------------------------------------------------
cat >own.log <<'EOF'
10.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 10 "-" "t"
10.0.0.2 - - [22/Nov/2026:10:00:01 +0000] "GET /a HTTP/1.1" 200 20 "-" "t"
this line is not a log line
10.0.0.3 - - [22/Nov/2026:10:00:02 +0000] "POST /b HTTP/1.1" 500 - "-" "t"
EOF
expect 0 "a run on a log of one's own, untraced" "$DEMO" --input own.log \
    --out own --no-trace
same "4 lines read" "$(num own/report.txt "lines read")" 4
same "3 parsed" "$(num own/report.txt "lines parsed")" 3
same "1 quarantined" "$(num own/report.txt "lines quarantined")" 1
has own/report.txt " 2 +200 +30  /a$" "GET /a: 2 requests, 30 bytes"
has own/report.txt " 1 +500 +0  /b$" "POST /b: 1 request"
has own/quarantine.log "^this line is not a log line$" "the bad line is kept"
if [ -e own/trace.acto ] || [ -e own/access.log ]; then
    fail "--no-trace and --input write no trace and no log"
else ok "--no-trace and --input write no trace and no log"; fi

: >empty.log
expect 0 "a run on an empty log" "$DEMO" --input empty.log --out empty
same "an empty log: 0 lines read" "$(num empty/report.txt "lines read")" 0
if [ -f empty/quarantine.log ] && [ ! -s empty/quarantine.log ]; then
    ok "an empty log: an empty quarantine.log"
else fail "an empty log: no empty quarantine.log"; fi
expect 0 "an empty log: the trace is valid" "$TOOL" check empty/trace.acto

# ---- Ctrl-C in the middle of a run --------------------------------------
# --rate keeps the run going for about 40 s; SIGINT is sent once the demo
# says it started, and the run must end well before that.
"$DEMO" --lines 20000 --rate 500 --out int >int.txt 2>int.err &
pid=$!
i=0
while ! grep -q "^acto-demo: started" int.txt && [ $i -lt 600 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -INT $pid
wait $pid
status=$?
pid=
same "Ctrl-C: exit status 130" "$status" 130
if [ "$status" -ne 130 ]; then sed 's/^/    /' int.txt int.err | head -30; fi
has int.txt "interrupted by SIGINT" "Ctrl-C: the summary says so"
has int/report.txt "outcome: interrupted" "Ctrl-C: the report says so"
read=$(num int/report.txt "lines read")
parsed=$(num int/report.txt "lines parsed")
quarantined=$(num int/report.txt "lines quarantined")
if [ -n "$read" ] && [ "$read" -lt 20000 ]; then ok "Ctrl-C: stopped early ($read lines)"
else fail "Ctrl-C: read '$read' lines"; fi
same "Ctrl-C: lines read = parsed + quarantined" "$read" \
    $((${parsed:-0} + ${quarantined:-0}))
same "Ctrl-C: every parsed line reported" \
    "$(num int/report.txt "records reported")" "$parsed"
expect 0 "Ctrl-C: the trace is complete and valid" "$TOOL" check int/trace.acto
expect 0 "Ctrl-C: the Perfetto JSON is valid" "$JCHECK" perfetto int/trace.json

checks_done acto-demo
