#!/usr/bin/env python3
"""Write COUNT small files (about 100 B to 4 KiB of CSV-like text) into DIR, spread over 100 subdirectories."""
import os
import random
import sys


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: generate-small-files.py COUNT DIR")
    count = int(sys.argv[1])
    root = sys.argv[2]
    rng = random.Random(7)
    for index in range(count):
        directory = os.path.join(root, "run_%03d" % (index % 100))
        os.makedirs(directory, exist_ok=True)
        rows = rng.randrange(5, 200)
        text = "".join("%d,%.4f,%.4f\n" % (step, rng.random(), rng.random() * 10) for step in range(rows))
        with open(os.path.join(directory, "metrics_%05d.csv" % index), "w") as out:
            out.write("step,loss,lr\n" + text)


if __name__ == "__main__":
    main()
