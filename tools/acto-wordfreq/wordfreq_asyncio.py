#!/usr/bin/env python3
"""Word frequencies of text files with asyncio: the baseline acto-wordfreq
is measured against (acto-bench's wordfreq workload runs both on the same
file and checks that their top 10 agree).

    wordfreq_asyncio.py [--top N] [--workers N] FILE...

Same output as acto-wordfreq: "word count" lines, most frequent first, ties
by word; words are runs of ASCII letters, lowercased.

The idiomatic shape: a reader task per file reads chunks (in the default
executor, as asyncio does file I/O), cuts each at its last non-letter so no
word straddles two chunks, and puts them on a bounded asyncio.Queue; N
worker tasks take chunks, tokenize them and count into their own Counter;
the Counters are merged at the end.
"""

import argparse
import asyncio
import collections
import string
import sys

CHUNK = 256 * 1024
LETTERS = string.ascii_letters.encode()
# Letters to lower case, every other byte to a space.
TABLE = bytes(
    (b | 0x20) if b in LETTERS else 0x20 for b in range(256)
)


def last_cut(chunk: bytes) -> int:
    """Length of the longest prefix of chunk that ends with a non-letter."""
    n = len(chunk)
    while n > 0 and chunk[n - 1] in LETTERS:
        n -= 1
    return n


async def reader(path: str, queue: asyncio.Queue) -> None:
    loop = asyncio.get_running_loop()
    with open(path, "rb") as f:
        carry = b""
        while True:
            chunk = await loop.run_in_executor(None, f.read, CHUNK)
            if not chunk:
                break
            cut = last_cut(chunk)
            if cut == 0:
                carry += chunk
                continue
            await queue.put(carry + chunk[:cut])
            carry = chunk[cut:]
        if carry:
            await queue.put(carry)


async def worker(queue: asyncio.Queue, counts: collections.Counter) -> None:
    while True:
        chunk = await queue.get()
        try:
            if chunk is None:
                return
            counts.update(chunk.translate(TABLE).split())
        finally:
            queue.task_done()


async def wordfreq(paths, workers: int) -> collections.Counter:
    queue: asyncio.Queue = asyncio.Queue(maxsize=2 * workers)
    counters = [collections.Counter() for _ in range(workers)]
    tasks = [asyncio.create_task(worker(queue, c)) for c in counters]
    try:
        await asyncio.gather(*(reader(p, queue) for p in paths))
    finally:
        for _ in tasks:
            await queue.put(None)
        await asyncio.gather(*tasks)
    total = collections.Counter()
    for c in counters:
        total.update(c)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=0,
                    help="print the N most frequent words only (0: all)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args()
    try:
        total = asyncio.run(wordfreq(args.files, max(1, args.workers)))
    except OSError as e:
        print(f"wordfreq_asyncio.py: {e.filename}: {e.strerror}",
              file=sys.stderr)
        return 1
    items = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    if args.top > 0:
        items = items[: args.top]
    out = sys.stdout
    for word, n in items:
        out.write(f"{word.decode('ascii')} {n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
