#!/usr/bin/env python3
"""Write a git fast-import stream that commits each file of a folder as it
is (raw bytes) at BUCKET/NAME, one commit per file, in byte order of the names: the
baseline that `stet ingest` is measured against (bench/ingest-vs-fast-import.sh).

  fast-import-stream.py FOLDER > stream
"""
import hashlib
import os
import sys


def main():
    folder = sys.argv[1]
    out = sys.stdout.buffer
    names = sorted(os.listdir(folder), key=lambda n: n.encode())
    t = 1600000000
    for i, name in enumerate(names, 1):
        data = open(os.path.join(folder, name), "rb").read()
        out.write(b"blob\nmark :%d\ndata %d\n" % (2 * i - 1, len(data)))
        out.write(data + b"\n")
        msg = ("add " + name).encode()
        out.write(b"commit refs/heads/main\nmark :%d\n" % (2 * i))
        out.write(b"committer bench <bench@localhost> %d +0000\n" % (t + i))
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        if i > 1:
            out.write(b"from :%d\n" % (2 * i - 2))
        # a blob, two small trees (root and a bucket of ~1/256 of the
        # files), a commit: fast-import's best case
        bucket = hashlib.sha1(name.encode()).hexdigest()[:2]
        out.write(b"M 100644 :%d %s/%s\n\n" % (2 * i - 1, bucket.encode(), name.encode()))


if __name__ == "__main__":
    main()
