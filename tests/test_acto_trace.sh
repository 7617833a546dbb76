#!/bin/sh
# acto-trace end to end: trace_sample writes a trace with a known flow
# (outside -> alpha; alpha -> beta, an ask to gamma, a timer, a failing
# worker restarted by its supervisor, a dead letter to ghost); every
# subcommand runs on it and its output is checked: numbers, trees, the
# JSON exports parsed back by trace_json_check (strict; flow arrows and
# slice nesting), Mermaid/dot with mmdc/dot when installed, the HTML with
# no network reference; damaged files and bad arguments give clean errors.
#
# usage: test_acto_trace.sh ACTO_TRACE TRACE_SAMPLE TRACE_JSON_CHECK
set -u
. "$(dirname "$0")/support/checks.sh"
TOOL=$1
SAMPLE=$2
JCHECK=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
ACTO_TRACE_NO_PROGRESS=1
export ACTO_TRACE_NO_PROGRESS

"$SAMPLE" s.acto >ids.txt || { echo "FAIL: trace_sample"; exit 1; }
flow=$(sed -n 's/^flow //p' ids.txt)
done_id=$(sed -n 's/^done //p' ids.txt)

# ---- stats ------------------------------------------------------------------
expect 0 "stats --tsv" "$TOOL" stats --tsv s.acto
cp out.txt stats.tsv
# field: actor name in out handled h50 h99 hmax w50 w99 peak fail rest dead drop
field() { # field NAME COLUMN: of the first row named NAME
    awk -F'\t' -v n="$1" -v c="$2" '$2 == n { print $c; exit }' stats.tsv
}
check_field() {
    v=$(field "$1" "$2")
    if [ "$v" = "$3" ]; then ok "stats: $1 $4 = $3"; else fail "stats: $1 $4 = '$v', expected $3"; fi
}
check_field alpha 3 2 in
check_field alpha 4 3 out
check_field alpha 5 2 handled
check_field beta 3 2 in
check_field beta 5 2 handled
check_field gamma 5 1 handled
check_field worker 5 1 handled
check_field worker 12 1 failures
check_field worker 13 1 restarts
check_field ghost 14 1 "dead letters"
check_field ghost 5 0 handled
check_field outside 4 4 out
check_field worker 4 1 out # its DOWN to the supervisor, sent as it stops
if awk -F'\t' 'NR > 1 && $1 != "#" && !/^#/ && ($6 > $7 || $7 > $8 || $9 > $10) { bad = 1 } END { exit bad }' stats.tsv; then
    ok "stats: p50 <= p99 <= max"
else
    fail "stats: a p50 above its p99, or a p99 above its max"
fi
if [ "$(field alpha 9)" -gt 0 ] && [ "$(field alpha 6)" -gt 0 ]; then
    ok "stats: alpha's wait and handle times are measured"
else
    fail "stats: alpha's wait or handle time is 0"
fi
has stats.tsv '^# events [0-9]+, sends 9, handled 7, failures 1, restarts 1, dead letters 1, dropped 0' "stats: the totals"
has stats.tsv '^# lost events 0 \(in 0 LOST events; the file counts 0\)' "stats: no events lost"
expect 0 "stats (table)" "$TOOL" stats s.acto
has out.txt '^actor +in +out +handled' "stats: the table's header"
# per message type, by the names in the trace's string table
has out.txt '^message type +sent +handled +hdl p50 +hdl p99 +hdl max$' "stats: the per-type header"
has out.txt '^Go +1 +1 +[0-9.]+[nums]+ ' "stats: Go, sent and handled once, timed"
has stats.tsv '^#type	Reply	1	0	0	0	0$' "stats --tsv: a reply completes its ask, handled by no actor"
has stats.tsv '^#type	Hello	1	0	' "stats --tsv: the dead letter's type, sent, never handled"
types_handled=$(awk -F'\t' '$1 == "#type" && $2 != "name" { n += $4 } END { print n }' stats.tsv)
if [ "$types_handled" = 7 ]; then ok "stats: the types' handled add up to the total"
else fail "stats: the types' handled add up to $types_handled, expected 7"; fi
if awk -F'\t' '$1 == "#type" && $2 != "name" && ($5 > $6 || $6 > $7) { bad = 1 } END { exit bad }' stats.tsv; then
    ok "stats: per type, p50 <= p99 <= max"
else
    fail "stats: per type, p50 <= p99 <= max"
fi

# ---- flow and why -----------------------------------------------------------
expect 0 "flow" "$TOOL" flow s.acto "$flow"
cp out.txt flow.txt
has flow.txt "^flow $flow: 10 messages" "flow: 10 messages"
has flow.txt '^\* #1 Go: outside -> alpha 0\.1, queued [0-9.]+[nums]+, handled' "flow: the root, on the critical path"
has flow.txt '^    #2 Next: alpha 0\.1 -> beta 1\.1' "flow: alpha told beta"
has flow.txt '^      #[0-9]+ Reply: gamma 2\.1 -> ask, completed the ask after [0-9.]+[nums]+ ' "flow: the reply under the request"
has flow.txt '^        #[0-9]+ Done: outside -> alpha' "flow: the ask's continuation under the reply"
has flow.txt '^  \* #[0-9]+ Tick: timer set by alpha 0\.1 for beta 1\.1, fired after .*asked: 2 ms' "flow: the timer, critical"
has flow.txt '^    \* #[0-9]+ Tick: outside -> beta 1\.1, queued' "flow: the timer's message, critical"
has flow.txt 'Die: alpha 0\.1 -> worker [0-9.]+, .*FAILED ACTO_EINVAL.*restarted by actor [0-9.]+ as worker' "flow: the failure and its restart"
has flow.txt 'Hello: alpha 0\.1 -> ghost [0-9.]+, DEAD LETTER' "flow: the dead letter"
has flow.txt '^      #[0-9]+ DOWN: worker [0-9.]+ -> actor [0-9.]+, queued' "flow: the supervisor's notice under the failing message"
has flow.txt '^critical path \(\*\): 3 hops' "flow: the critical path's summary"
expect 0 "flow given a message id finds its flow" "$TOOL" flow s.acto "$done_id"
has out.txt "^flow $flow: 10 messages" "flow: by message id"
expect 0 "why" "$TOOL" why s.acto "$done_id"
cp out.txt why.txt
has why.txt "^why message $done_id \(Done to alpha 0\.1\), flow $flow: 4 hops" "why: four hops"
has why.txt '^\* #1 Go' "why: the root first"
has why.txt '^    #3 Req: outside -> gamma' "why: then the request"
has why.txt '^      #[0-9]+ Reply: gamma 2\.1 -> ask' "why: then the reply"
has why.txt "^        #$done_id Done" "why: then the message"
expect 1 "flow of an unknown id" "$TOOL" flow s.acto 99999
has err.txt 'no flow or message 99999' "flow: an unknown id is named"

# ---- perfetto ---------------------------------------------------------------
expect 0 "perfetto" "$TOOL" perfetto s.acto -o p.json
expect 0 "perfetto: strict JSON, arrows matched, slices nested" "$JCHECK" perfetto p.json
has out.txt 'arrows matched' "perfetto: checked"
has p.json '"thread_name","pid":1,"tid":[0-9]+,"args":\{"name":"actor 0\.1 alpha"\}' "perfetto: a named track"
has p.json '"ph":"X","name":"handle Go"' "perfetto: a handle slice"
has p.json '"ph":"X","name":"handle Done"' "perfetto: a type named while tracing (acto_msg_type_name)"
has p.json '"ph":"C","name":"mailbox actor 1\.1 beta"' "perfetto: a mailbox counter"
has p.json '"ph":"i","s":"t","name":"failure".*"error":"ACTO_EINVAL"' "perfetto: the failure instant"
has p.json '"ph":"i","s":"t","name":"dead_letter"' "perfetto: the dead letter instant"
has p.json '"ph":"f","bp":"e","name":"msg","cat":"send"' "perfetto: f binds to its enclosing slice"
has p.json '"thread_name","pid":1,"tid":[0-9]+,"args":\{"name":"ask \(replies complete futures\)"\}' "perfetto: the ask's track"
has p.json '"ph":"X","name":"future completed","cat":"anchor"' "perfetto: the reply's arrow ends where its future completed"
expect 0 "perfetto split" "$TOOL" perfetto s.acto -o split.json --max-events 10
n=$(ls split*.json | wc -l)
if [ "$n" -ge 5 ] && [ -f split.1.json ]; then ok "perfetto: split into $n files"; else fail "perfetto: $n files"; fi
expect 0 "perfetto split: every part valid, arrows matched across parts" "$JCHECK" perfetto split*.json
expect 2 "perfetto without -o" "$TOOL" perfetto s.acto

# ---- otlp -------------------------------------------------------------------
expect 0 "otlp" "$TOOL" otlp s.acto -o o.json
expect 0 "otlp: strict JSON, spans well formed, parents found" "$JCHECK" otlp o.json
has out.txt '^otlp: 7 spans, [0-9]+ with parents \(all found\), 1 with error.type' "otlp: 7 spans (7 handled), one failed"
has o.json '"traceId":"0000000000000000000000000000000'"$flow"'","spanId":"0000000000000001","name":"process alpha","kind":5' "otlp: the root span"
req=$(sed -n 's/^ *#\([0-9]*\) Req: .*/\1/p' flow.txt)
done_span=$(printf '%016x' "$done_id")
req_span=$(printf '%016x' "$req")
has o.json '"spanId":"'"$done_span"'","parentSpanId":"'"$req_span"'"' "otlp: the ask's continuation is a child of the request's span"
if command -v python3 >/dev/null 2>&1; then
    expect 0 "python3's json reads the exports" python3 -c 'import json, sys
for f in sys.argv[1:]:
    json.load(open(f))' p.json o.json
else
    echo "skip: python3 not installed"
fi

# ---- seq --------------------------------------------------------------------
expect 0 "seq" "$TOOL" seq s.acto "$flow"
cp out.txt seq.mmd
has seq.mmd '^sequenceDiagram$' "seq: a sequence diagram"
has seq.mmd '^participant p[0-9]+ as alpha 0\.1$' "seq: aliased participants"
has seq.mmd '^p[0-9]+-\)p[0-9]+: Go \(msg 1\)$' "seq: an async arrow"
has seq.mmd '^participant p[0-9]+ as ask$' "seq: the ask a reply completes"
has seq.mmd '^p[0-9]+-\)p[0-9]+: Reply \(msg [0-9]+\)$' "seq: the reply"
has seq.mmd '^p[0-9]+-xp[0-9]+: Hello \(msg [0-9]+\) dead letter$' "seq: the dead letter"
has seq.mmd '^Note over p[0-9]+: FAILED ACTO_EINVAL on msg' "seq: the failure as a note"
has seq.mmd '^destroy p[0-9]+$' "seq: the failed worker destroyed"
has seq.mmd 'Tick \(msg [0-9]+, timer\)' "seq: the timer's message from its setter"
hasnt seq.mmd '^participant [^p]' "seq: every participant aliased"
expect 0 "seq cut" "$TOOL" seq s.acto "$flow" --max-arrows 2
has out.txt '^Note over p[0-9]+: CUT HERE - [0-9]+ more lines not shown' "seq: the cut is noted"
if command -v mmdc >/dev/null 2>&1; then
    expect 0 "mmdc renders the diagram" mmdc -i seq.mmd -o seq.svg
else
    echo "skip: mmdc not installed"
fi

# ---- graph ------------------------------------------------------------------
expect 0 "graph" "$TOOL" graph s.acto
cp out.txt g.dot
has g.dot '^digraph acto \{' "graph: a digraph"
has g.dot 'label="worker\\n[0-9.]+\\nhandled 1\\nfailures 1\\nrestarts 1", color="#cc0000"' "graph: the failing worker in red"
has g.dot '^  a[0-9]+ -> a[0-9]+ \[label="2"\];' "graph: a count on an edge"
expect 0 "graph capped" "$TOOL" graph s.acto --max-edges 2
has out.txt 'the 2 busiest of 8 edges' "graph: the cap is noted"
if command -v dot >/dev/null 2>&1; then
    expect 0 "dot renders the graph" dot -Tsvg g.dot -o g.svg
else
    echo "skip: graphviz (dot) not installed"
fi

# ---- html -------------------------------------------------------------------
expect 0 "html" "$TOOL" html s.acto -o r.html
hasnt r.html 'https?://' "html: no network reference"
hasnt r.html '<(script|link|img|iframe)[^>]* (src|href)=' "html: nothing loaded"
has r.html '<svg' "html: inline SVG"
has r.html '<h2>Topology</h2>' "html: the topology"
has r.html '<h2>Timeline</h2>' "html: the timeline"
has r.html '<td>ghost 3\.1</td>' "html: the table"
has r.html '</html>' "html: complete"
has r.html "Content-Security-Policy content=\"default-src 'none'" "html: a policy that refuses requests"
# Rendering in a browser: test_acto_trace_html.sh.

# ---- check ------------------------------------------------------------------
expect 0 "check: the sample is clean" "$TOOL" check s.acto
has out.txt 'check: [0-9]+ events, .*0 problems, 0 orphans.*: ok' "check: ok"
"$SAMPLE" b.acto --broken || fail "trace_sample --broken"
expect 1 "check: a broken trace fails" "$TOOL" check b.acto
has out.txt 'the timestamp goes back 500 ns' "check: time going back"
has out.txt 'HANDLED of message 7 .* without its HANDLE' "check: HANDLED without HANDLE"
has out.txt 'message 9 is handled but never sent' "check: an orphan"

# ---- damaged files ----------------------------------------------------------
size=$(wc -c <s.acto)
head -c $((size - 9)) s.acto >cut.acto
expect 1 "stats: a cut trace" "$TOOL" stats cut.acto
has err.txt 'cut\.acto: offset [0-9]+: .*\(UV_EOF\)' "a cut trace: the reader's error with its offset"
expect 1 "check: a cut trace" "$TOOL" check cut.acto
has out.txt 'problem: the file: offset [0-9]+' "check: the cut reported"
cp s.acto bad.acto
printf '\301\301\301\301\301\301\301\301' | dd of=bad.acto bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect 1 "perfetto: a corrupt trace" "$TOOL" perfetto bad.acto -o bad.json
has err.txt 'bad\.acto: offset [0-9]+: ' "a corrupt trace: the reader's error with its offset"
echo "not a trace" >text.acto
expect 1 "a file that is not a trace" "$TOOL" otlp text.acto -o t.json
has err.txt 'not an acto trace' "not a trace: said so"
: >empty.acto
expect 1 "an empty file" "$TOOL" html empty.acto -o e.html
has err.txt 'empty' "an empty file: said so"
expect 1 "a missing file" "$TOOL" stats missing.acto
has err.txt 'missing\.acto: ' "a missing file: named"
expect 1 "an unwritable output" "$TOOL" graph s.acto -o /nonexistent/dir/g.dot

# ---- arguments --------------------------------------------------------------
expect 2 "no arguments" "$TOOL"
expect 2 "an unknown command" "$TOOL" frobnicate s.acto
has err.txt "unknown command 'frobnicate'" "usage: the unknown command named"
expect 2 "flow without its id" "$TOOL" flow s.acto
expect 2 "a bad id" "$TOOL" why s.acto abc
expect 2 "an unknown option" "$TOOL" stats --nope s.acto
expect 2 "a bad number" "$TOOL" perfetto s.acto -o x.json --max-events 0
expect 2 "a stray argument" "$TOOL" stats s.acto extra
expect 0 "--help" "$TOOL" --help
has out.txt '^usage: acto-trace COMMAND' "--help prints the usage"
expect 0 "a command's --help" "$TOOL" seq --help

# ---- a larger trace ---------------------------------------------------------
"$SAMPLE" big.acto --big 20000 >/dev/null || fail "trace_sample --big"
# The runtime turns cycle counts into ns with a calibration it refines
# at each hand-over, so a trace this long may step back a few ns at a
# batch boundary: check must say so, and find nothing else.
"$TOOL" check big.acto >out.txt 2>err.txt
if grep -v 'the timestamp goes back' out.txt | grep -q '^problem\|^orphan'; then
    fail "check: 20000 round trips: unexpected problems"
    head -5 out.txt
else
    ok "check: 20000 round trips (problems, if any, are clock steps)"
fi
expect 0 "perfetto: a larger trace, split" "$TOOL" perfetto big.acto -o big.json --max-events 50000
expect 0 "perfetto: the parts check" "$JCHECK" perfetto big*.json
expect 0 "flow: a 40000-hop chain prints without recursion" "$TOOL" flow big.acto 11

checks_done acto-trace
