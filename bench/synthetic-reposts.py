#!/usr/bin/env python3
"""Synthetic reposts (a benchmark, not a test): take N corpus posts that
belong to no labelled family, make four reposts of each from other sources
(trimmed to 60 % of the paragraphs, an added lead paragraph, a title
prefix, an added footer), archive originals and reposts in one run, and
count how many reposts land in their original's cluster.

  bench/synthetic-reposts.py --stet build/stet [--n 40] [--seed 7]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--stet", required=True)
    ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"))
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    stet = os.path.abspath(args.stet)
    posts = os.path.join(args.corpus, "posts")
    family = {}
    for line in open(os.path.join(args.corpus, "manifest.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = line.split("\t")
        family[f[0]] = f[7]
    names = sorted(n for n in os.listdir(posts) if not family.get(n) and n.startswith("_posts"))
    random.Random(args.seed).shuffle(names)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "in")
        os.mkdir(folder)
        for i, n in enumerate(names[:args.n]):
            t = open(os.path.join(posts, n), encoding="utf-8").read()
            end = t.index("\n---\n", 4) + 5
            fm, body = t[:end], t[end:]
            paras = re.split(r"(?=<p>)", body)

            def source(s, who):
                s = re.sub(r"^author: .*$", "author: " + who, s, flags=re.M)
                return re.sub(r"^from: (.*)$", lambda m: "from: " + m.group(1) + "?copy=" + who, s, flags=re.M)

            keep = "".join(paras[:max(2, int(len(paras) * 0.6))])
            variants = {
                "trim": source(fm, "站A") + keep + ("" if "</div>" in keep else "</div>\n"),
                "lead": source(fm, "站B") + body.replace(
                    "<div>", f"<div><p>编者按第{i}号：本文由第{i}编辑组转载自其他媒体，原作者保留权利，第{i}号说明完毕。</p>", 1),
                "prefix": source(fm, "站C").replace('title: "', 'title: "转载｜', 1) + body,
                "footer": source(fm, "站D") + body.replace(
                    "</div>", f"<p>欢迎订阅第{i}期每日简报，第{i}期特别推荐栏目正在热播，敬请关注。</p></div>", 1),
            }
            open(os.path.join(folder, f"{i:03d}-orig.md"), "w", encoding="utf-8").write(t)
            for kind, v in variants.items():
                open(os.path.join(folder, f"{i:03d}-{kind}.md"), "w", encoding="utf-8").write(v)
        archive = os.path.join(tmp, "archive")
        subprocess.run([stet, "init", archive], check=True, capture_output=True)
        run = subprocess.run([stet, "-C", archive, "ingest", "--json", folder], capture_output=True)
        rows = [json.loads(l) for l in run.stdout.decode().splitlines() if l.strip()]
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for r in rows:
        find(r.get("path"))
        if r.get("of"):
            parent[find(r["path"])] = find(r["of"])
    by = {os.path.basename(r["input"]): r for r in rows}
    linked, total = {}, {}
    for name, r in by.items():
        i, kind = name[:3], name[4:-3]
        if kind == "orig":
            continue
        total[kind] = total.get(kind, 0) + 1
        if find(r["path"]) == find(by[f"{i}-orig.md"]["path"]):
            linked[kind] = linked.get(kind, 0) + 1
    parts = " ".join(f"{k}={linked.get(k, 0)}/{total[k]}" for k in sorted(total))
    print(f"originals={args.n} linked {sum(linked.values())}/{sum(total.values())}: {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
