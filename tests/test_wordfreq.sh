#!/bin/sh
# acto-wordfreq end to end: exact counts with words cut at every chunk
# boundary (--chunk down to 1 byte), files that end and start in a word
# (their words must not join), the top N, a generated text checked against
# tr | sort | uniq -c, and the errors: a missing file, a directory, bad
# usage.
#
#   test_wordfreq.sh PATH/TO/acto-wordfreq
set -u
BIN=$1
DIR=$(mktemp -d "${TMPDIR:-/tmp}/acto-wordfreq-test-XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
export LC_ALL=C
FAILED=0

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

# expect NAME EXPECTED_FILE ARGS...: acto-wordfreq ARGS prints exactly the
# expected lines and exits 0.
expect() {
    name=$1
    want=$2
    shift 2
    "$BIN" "$@" >"$DIR/got" 2>"$DIR/err"
    status=$?
    if [ "$status" -ne 0 ] || [ -s "$DIR/err" ]; then
        fail "$name: exit status $status ($(cat "$DIR/err"))"
    elif ! cmp -s "$want" "$DIR/got"; then
        fail "$name: output differs"
        diff "$want" "$DIR/got" | head -20 >&2
    fi
}

# The files. a ends in a letter with no newline; b starts with letters, so
# "zulu" + "Alpha" must stay two words; c is one word longer than small
# chunks; d is empty.
printf 'Hello, hello HELLO! The quick-brown fox;\tthe THE tHe end\nzulu' \
    >"$DIR/a"
printf 'Alpha beta alpha\r\nbeta\nALPHA...hello' >"$DIR/b"
printf 'Supercalifragilisticexpialidocious' >"$DIR/c"
: >"$DIR/d"

cat >"$DIR/want" <<'EOF'
hello 4
the 4
alpha 3
beta 2
brown 1
end 1
fox 1
quick 1
supercalifragilisticexpialidocious 1
zulu 1
EOF
head -n 3 "$DIR/want" >"$DIR/want3"

for chunk in 1 2 3 5 7 11 64 65536; do
    for workers in 1 2 5; do
        expect "chunk $chunk, workers $workers" "$DIR/want" \
            --chunk "$chunk" --workers "$workers" \
            "$DIR/a" "$DIR/b" "$DIR/c" "$DIR/d"
    done
done
expect "default options" "$DIR/want" "$DIR/a" "$DIR/b" "$DIR/c" "$DIR/d"
expect "--top 3" "$DIR/want3" --top 3 --chunk 4 "$DIR/a" "$DIR/b" "$DIR/c"
: >"$DIR/empty"
expect "an empty file" "$DIR/empty" "$DIR/d"

# A generated text (no letters beyond ASCII; digits, punctuation and
# capitals between words), checked against the shell's count.
awk 'BEGIN {
    split("lorem Ipsum dolor sit AMET consectetur adipiscing elit sed do " \
          "eiusmod tempor incididunt ut labore et dolore magna aliqua", w, " ")
    s = 7
    for (i = 0; i < 40000; i++) {
        s = (s * 1103515245 + 12345) % 2147483648
        k = int(s / 65536) % 19 + 1
        sep = substr(" ,.;:-!?0123456789\n\t", (int(s / 8) % 21) + 1, 1)
        printf "%s%s", w[k], sep
    }
}' >"$DIR/gen"
tr -cs A-Za-z '\n' <"$DIR/gen" | tr A-Z a-z | grep . | sort | uniq -c |
    sort -k1,1nr -k2,2 | awk '{ print $2, $1 }' >"$DIR/want_gen"
for chunk in 13 4096 262144; do
    expect "generated text, chunk $chunk" "$DIR/want_gen" --chunk "$chunk" \
        --workers 3 "$DIR/gen"
done

# Errors: exit 1 with the file named; bad usage exits 2.
"$BIN" "$DIR/a" "$DIR/missing" >"$DIR/got" 2>"$DIR/err"
status=$?
if [ "$status" -ne 1 ]; then
    fail "a missing file: exit status $status, expected 1"
fi
if ! grep -q "$DIR/missing: no such file or directory" "$DIR/err"; then
    fail "a missing file: the message does not name it: $(cat "$DIR/err")"
fi
if [ -s "$DIR/got" ]; then
    fail "a missing file: counts were printed"
fi
"$BIN" "$DIR" >/dev/null 2>"$DIR/err"
status=$?
if [ "$status" -ne 1 ] || ! grep -q "$DIR" "$DIR/err"; then
    fail "a directory: status $status, message: $(cat "$DIR/err")"
fi
for args in "" "--workers 0 $DIR/a" "--top x $DIR/a" "--frobnicate $DIR/a" \
    "--top"; do
    # shellcheck disable=SC2086 # the arguments are meant to split
    "$BIN" $args >/dev/null 2>"$DIR/err"
    status=$?
    if [ "$status" -ne 2 ] || ! grep -q "usage:" "$DIR/err"; then
        fail "bad usage '$args': exit status $status, expected 2 and usage"
    fi
done
if ! "$BIN" --help | grep -q "usage: acto-wordfreq"; then
    fail "--help prints no usage"
fi

if [ "$FAILED" -ne 0 ]; then
    exit 1
fi
echo "acto-wordfreq: all checks passed"
