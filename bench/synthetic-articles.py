#!/usr/bin/env python3
"""Synthetic news posts for the scaling benchmark (not a test): N Hexo
posts with YAML front matter and an HTML body, written under OUT in
folders of 1,000. Each post is unique: a title and 6-10 paragraphs of
random sentences, English or Chinese, from one of 60 sources, dated at
random over 25 years (2000-2024), as a backfill of old news would be.
With --dated DAY they are dated instead as a feed delivers them: in the
order of their numbers, --per-day of them a day (default 2,000) from DAY
on, spread over each day's seconds; a scheduled run's posts are the
latest days'. The same --seed, --start and --dated give the same posts.

  bench/synthetic-articles.py OUT N [--start K] [--seed S] [--dated YYYY-MM-DD [--per-day D]]
"""
import argparse
import datetime
import os
import random

EN = ("council budget river bridge school hospital market election police storm harbour library "
      "museum railway minister court report water energy price farmers workers city village "
      "festival museum airport road tunnel forest coast island union factory research students "
      "teachers doctors nurses parliament mayor province district bank trade export import "
      "inflation rent housing park garden stadium team season league record rain snow wind").split()
ZH = list("市区县省国家政府学校医院银行公司工人农民学生老师医生城市乡村道路桥梁铁路机场港口河流"
          "森林海岸岛屿工厂研究经济价格市场出口进口通胀住房公园体育球队赛季记录雨雪风节日博物馆图书馆")
SOURCES = ["Example Times", "Harbour Daily", "示例日报", "北方晚报", "River Post", "东方时报",
           "Valley Gazette", "南方新闻", "Coast Herald", "西部之声"] + [f"Source {i:02d}" for i in range(50)]


def sentence(rng, zh):
    if zh:
        return "".join(rng.choice(ZH) for _ in range(rng.randint(12, 30))) + "。"
    words = [rng.choice(EN) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + f" {rng.randint(2, 99999)}."


def post(i, seed, dated=None):
    rng = random.Random(seed * 1000003 + i)
    zh = rng.random() < 0.5
    title = (sentence(rng, zh)[:-1])[:40 if zh else 80]
    day = datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=rng.randint(0, 25 * 365 * 86400))
    if dated:  # (first day, posts a day, this post's place in the set)
        first, per_day, k = dated
        day = first + datetime.timedelta(days=k // per_day, seconds=(k % per_day) * 86400 // per_day)
    paras = ["".join(sentence(rng, zh) + ("" if zh else " ") for _ in range(rng.randint(2, 4))).strip()
             for _ in range(rng.randint(6, 10))]
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    return (f"---\ntitle: '{title} {i}'\nauthor: '{rng.choice(SOURCES)}'\n"
            f"date: {day:%Y-%m-%d %H:%M:%S}\ncategories:\n - news\n---\n\n<div>\n{body}\n</div>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dated", type=datetime.datetime.fromisoformat,
                    help="date the posts in order from this day on, as a feed delivers them")
    ap.add_argument("--per-day", type=int, default=2000, help="posts a day, with --dated")
    args = ap.parse_args()
    if args.per_day < 1:
        ap.error("--per-day must be at least 1")
    for i in range(args.start, args.start + args.n):
        d = os.path.join(args.out, f"{i // 1000:05d}")
        if i % 1000 == 0 or i == args.start:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{i:07d}.md"), "w", encoding="utf-8") as f:
            f.write(post(i, args.seed, args.dated and (args.dated, args.per_day, i - args.start)))


if __name__ == "__main__":
    main()
