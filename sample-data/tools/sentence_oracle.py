#!/usr/bin/env python3
"""Upper bound of an extractive answer's token F1 on the sample eval set.

For each answerable case, the best token F1 (SQuAD normalisation, as
evals/metrics.TokenF1) that one sentence, or two sentences, of the context the
answer path gave the answerer could reach against the reference answer; next to
it, what the answerer got. Sentences are split roughly (lines, then ". " before
a capital), so the figures are approximate.

    rm -f /tmp/dump.jsonl
    LLMOPS_EVAL_CASES=1 LLMOPS_EVAL_DUMP=/tmp/dump.jsonl go test -count=1 ./evals -run TestSampleRun
    python3 sample-data/tools/sentence_oracle.py /tmp/dump.jsonl
"""
import json
import re
import string
import sys
import unicodedata
from collections import Counter

QUESTIONS = "sample-data/evals/questions.jsonl"


def norm(s):
    s = re.sub(r"\[\d+(?:[,\-–] ?\d+)*\]", "", s).lower()
    out = []
    for ch in s:
        if ch in string.punctuation or ch in "’‘ʼ":
            continue
        if unicodedata.category(ch).startswith("P"):
            out.append(" ")
            continue
        out.append(ch)
    return [t for t in "".join(out).split() if t not in ("a", "an", "the")]


def f1(answer, reference):
    a, r = norm(answer), norm(reference)
    if not a or not r:
        return 0.0
    counts, same = Counter(r), 0
    for t in a:
        if counts[t] > 0:
            counts[t] -= 1
            same += 1
    if same == 0:
        return 0.0
    p, rc = same / len(a), same / len(r)
    return 2 * p * rc / (p + rc)


def sentences(text):
    out = []
    for line in text.split("\n"):
        line = line.strip(" -|#>")
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", line):
            if len(s.split()) >= 3:
                out.append(s)
    return out


def main(dump):
    refs = {}
    with open(QUESTIONS) as f:
        for line in f:
            d = json.loads(line)
            refs[d["id"]] = d
    total = Counter()
    n = 0
    with open(dump) as f:
        for line in f:
            d = json.loads(line)
            r = refs.get(d["id"])
            if r is None or not r["answerable"]:
                continue
            n += 1
            ref = r["reference_answer"]
            ss = [s for c in d["context"] for s in sentences(c)]
            one = max([f1(s, ref) for s in ss] or [0])
            two = max([one] + [f1(a + " " + b, ref) for i, a in enumerate(ss) for j, b in enumerate(ss) if i != j])
            total["answerer"] += d["f1"]
            total["best sentence"] += one
            total["best two sentences"] += two
    for k in ("answerer", "best sentence", "best two sentences"):
        print(f"{k}: {total[k] / n:.3f}")
    print(f"({n} answerable cases)")


if __name__ == "__main__":
    main(sys.argv[1])
