#!/bin/sh
# acto-trace html in a real browser: headless Chromium opens the report of
# a known trace and the page must render: its script runs to the end and
# marks every part (topology, timeline, table) as drawn with a box on
# screen, the sort kept in the URL's hash works, nothing reaches the
# console (the page logs nothing of its own, so every console message is
# an error: an exception, a refused request, a bad element), and the
# screenshot is a full-size PNG with far more on it than a blank page.
# A broken copy of the report (a script error, a network request, an
# unclosed SVG element) must fail each check: the checks can fail.
#
# Chromium's own noise on stderr (D-Bus, GPU, sandbox warnings) is not
# console output: only its CONSOLE lines count.
#
# usage: test_acto_trace_html.sh ACTO_TRACE TRACE_SAMPLE
# Exits 77 (skipped) when no Chromium is installed; `make test` installs
# it (tools/install-deps.sh --test).
set -u
. "$(dirname "$0")/support/checks.sh"
TOOL=$1
SAMPLE=$2
browser=""
for b in chromium chromium-browser google-chrome; do
    command -v "$b" >/dev/null 2>&1 && browser=$b && break
done
if [ -z "$browser" ]; then
    echo "skip: no chromium installed (apt-get install -y chromium)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
ACTO_TRACE_NO_PROGRESS=1
export ACTO_TRACE_NO_PROGRESS

# chrome OUT ERR ARGS...: one headless run with its own profile, bounded
# in time; the page's console goes to ERR with Chromium's logging.
chrome() {
    out=$1
    err=$2
    shift 2
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu \
        --no-first-run --disable-extensions --user-data-dir="$dir/profile" \
        --enable-logging=stderr --v=0 --window-size=1280,1600 "$@" \
        >"$out" 2>"$err"
}

# console ERR: the page's console messages among Chromium's logging.
console() {
    grep -E '(INFO|WARNING|ERROR|VERBOSE[0-9]*):CONSOLE[:(]' "$1"
}

# rendered DOM: checks the mark the page's script leaves: "part n/m"
# for each part, every element drawn (n = m > 0). Prints what is wrong.
rendered() {
    mark=$(sed -n 's/.*data-acto-rendered="\([^"]*\)".*/\1/p' "$1" | head -1)
    if [ -z "$mark" ]; then
        echo "no render mark: the page's script did not run to its end"
        return 1
    fi
    echo "$mark" | awk '{
        for (i = 1; i < NF; i += 2) {
            split($(i + 1), c, "/")
            if (c[2] == 0 || c[1] != c[2]) {
                printf "%s: %s drawn of %s\n", $i, c[1], c[2]; bad = 1
            }
        }
        if (NF != 6) { print "the mark has not three parts: " $0; bad = 1 }
    } END { exit bad }'
}

# png FILE: a PNG of the window's size; prints its byte count.
png() {
    sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
    size=$(od -An -tu1 -j16 -N8 "$1" |
        awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }')
    if [ "$sig" != "89504e470d0a1a0a" ] || [ "$size" != "1280 1600" ]; then
        echo "not a 1280x1600 PNG (signature $sig, size $size)" >&2
        return 1
    fi
    wc -c <"$1"
}

"$SAMPLE" s.acto >/dev/null || { echo "FAIL: trace_sample"; exit 1; }
"$TOOL" html s.acto -o r.html || { echo "FAIL: acto-trace html"; exit 1; }

# ---- the report ---------------------------------------------------------
# Sorted by the fourth column (handled), largest first, through the hash.
if chrome dom.html err.txt --dump-dom "file://$dir/r.html#sort=-3"; then
    ok "chromium loads the report"
else
    fail "chromium failed on the report"
    sed 's/^/    /' err.txt | tail -5
fi
if rendered dom.html >why.txt; then
    ok "the report rendered: $(sed -n 's/.*data-acto-rendered="\([^"]*\)".*/\1/p' dom.html)"
else
    fail "the report did not render: $(tr '\n' ';' <why.txt)"
fi
if console err.txt >msgs.txt; then
    fail "the console has messages:"
    sed 's/^/    /' msgs.txt | head -5
else
    ok "no console message"
fi
first=$(grep -o '<tr><td>[^<]*' dom.html | head -1)
if [ "$first" = "<tr><td>alpha 0.1" ]; then
    ok "the hash sorts the table (alpha handled the most, first of the ties)"
else
    fail "#sort=-3: the first row is '$first'"
fi

chrome shot.out shot.err --screenshot="$dir/r.png" "file://$dir/r.html"
printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
chrome blank.out blank.err --screenshot="$dir/blank.png" "file://$dir/blank.html"
if full=$(png r.png) && blank=$(png blank.png); then
    if [ "$full" -gt $((blank * 4)) ]; then
        ok "screenshot: $full bytes of PNG, a blank page $blank"
    else
        fail "screenshot: $full bytes, hardly more than a blank page's $blank"
    fi
else
    fail "no screenshot"
    sed 's/^/    /' shot.err | tail -5
fi

# ---- a broken copy: every check must catch its fault --------------------
sed -e 's/fill-opacity="\([0-9.]*\)"/fill-opacity=\1/g' \
    -e 's|</body>|<img src="https://example.com/x.png"><script>null.x</script></body>|' \
    r.html >broken.html
chrome bdom.html berr.txt --dump-dom "file://$dir/broken.html"
if rendered bdom.html >why.txt; then
    fail "an unclosed SVG element went unseen"
else
    has_timeline=$(grep -c '^timeline: 1 drawn' why.txt)
    if [ "$has_timeline" -eq 1 ]; then ok "broken: $(cat why.txt)"; else fail "broken: $(cat why.txt)"; fi
fi
console berr.txt >msgs.txt
if grep -q 'Uncaught TypeError' msgs.txt; then ok "broken: the script error seen"; else fail "broken: the script error unseen"; fi
if grep -q "example.com/x.png' violates the following Content Security Policy" msgs.txt; then
    ok "broken: the network request refused and seen"
else
    fail "broken: the network request unseen"
fi

checks_done "acto-trace html"
