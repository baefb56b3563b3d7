#!/usr/bin/env python3
"""Write a tick CSV of SIZE_MIB mebibytes to OUT, with lines like `2026-11-03 14:00:00.123,2650.12,2650.45,3`.

Six slabs of about 8 MiB of random-walk lines are generated once and then written in a shuffled cycle. A repeat
is at least 8 MiB back, far outside deflate's 32 KiB window, so compressors see realistic text, and generation
runs at disk speed instead of Python formatting speed.
"""
import random
import sys


def make_slab(rng: random.Random, price: float, second: int) -> str:
    lines = []
    for _ in range(200_000):
        price = max(1000.0, price + rng.choice((-0.07, -0.03, -0.01, 0.0, 0.01, 0.03, 0.07)))
        second += rng.choice((0, 0, 1))
        spread = rng.choice((0.11, 0.21, 0.33, 0.45))
        stamp = "2026-11-%02d %02d:%02d:%02d.%03d" % (
            3 + second // 86400 % 25, second // 3600 % 24, second // 60 % 60, second % 60, rng.randrange(1000))
        lines.append("%s,%.2f,%.2f,%d\n" % (stamp, price, price + spread, rng.randrange(1, 9)))
    return "".join(lines)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: generate-ticks.py SIZE_MIB OUT")
    target = int(sys.argv[1]) * 1024 * 1024
    rng = random.Random(20261103)
    slabs = [make_slab(rng, 2650.0 + 10 * index, 3600 * index).encode() for index in range(6)]
    header = b"timestamp,bid,ask,volume\n"
    written = 0
    with open(sys.argv[2], "wb") as out:
        out.write(header)
        written += len(header)
        while written < target:
            slab = slabs[rng.randrange(len(slabs))]
            piece = slab[: target - written]
            out.write(piece)
            written += len(piece)


if __name__ == "__main__":
    main()
