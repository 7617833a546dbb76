# Checks the shell tests share: source it, make checks, end with
# checks_done. Each check prints "ok: ..." or "FAIL: ..." and counts
# failures; checks_done says how many and exits non-zero on any.
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
ok() {
    echo "ok: $*"
}
# expect STATUS DESCRIPTION CMD...: runs CMD (stdout to out.txt, stderr
# to err.txt) and checks its exit status.
expect() {
    want=$1
    what=$2
    shift 2
    "$@" >out.txt 2>err.txt
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$what: exit $got, expected $want"
        sed 's/^/    /' err.txt out.txt | head -20
    else
        ok "$what"
    fi
}
has() { # has FILE PATTERN DESCRIPTION
    if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3 ('$2' not in $1)"; fi
}
hasnt() { # hasnt FILE PATTERN DESCRIPTION
    if grep -Eq -- "$2" "$1"; then fail "$3 ('$2' in $1)"; else ok "$3"; fi
}
# checks_done NAME: the summary, and the exit status.
checks_done() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "all $1 checks passed"
}
