#!/usr/bin/env python3
"""Fit the extractive answerer's anchor weights (rag/answer/anchor.go) on the
odd-numbered sample cases, and compare them with the hand-set score (issue 14,
third round, branch ans; figures in docs/BENCHMARKS.md).

scorer_experiment.patch is made against 3cd6683, the commit before anchor.go:
it adds a per-candidate feature dump and LLMOPS_KNOBS overrides of the scoring
constants, and reads the environment, so it is an experiment, not code to
merge. In a worktree of that commit:

    git worktree add /tmp/base 3cd6683 && cd /tmp/base
    git apply <ans>/sample-data/tools/scorer_experiment.patch
    rm -f /tmp/feat.jsonl
    LLMOPS_ANSWER_FEATURES=/tmp/feat.jsonl go test -count=1 ./evals -run 'TestSampleRun$'
    python3 <ans>/sample-data/tools/scorer_experiment.py /tmp/feat.jsonl answer
    LLMOPS_KNOBS="la=1 Lcc=1.36 ..." go test -count=1 ./evals -run 'TestSampleRun$|TestHeldOutRun' -v | grep -E 'half|held-out run'

Run it from the ans checkout's root (it reads sample-data/evals/questions.jsonl).
The target ("sentence", the default, or "answer") is each candidate's token F1
against the reference: of the sentence itself, or of the prose answer choose
builds with it as the anchor (recorded for the best twelve by hand score). The
model is a listwise softmax over each question's candidates (target: softmax
of F1 / temperature), fitted on the ODD-numbered cases only; its
regularisation and temperature are chosen by 5-fold cross-validation inside
the odd half, repeated over three shuffles (one shuffle's folds move the
figure by 0.03). It reports top-1 token F1 (of the best-scored candidate) for
the hand-set score, the oracle, the model under cross-validation and, once, on
the even half; then the weights divided by the weight of In, in LLMOPS_KNOBS
form (prefix each with L and add la=1 to use them for the anchor only).

The patch's knobs (space-separated name=value; unset means the constant of
3cd6683): cc contextCredit, nc neighbourCredit, rb rankBonus, pb
polarityBonus, nb numberBonus, tb typeBonus, sw semanticWeight; lw x log(words
/ 15), fw for a chunk's first sentence, cw x centrality (score-weighted mean
cosine to the other embedded candidates); gate g scales the bonuses by
min(1, In / (g x best In)); la=1 with L-prefixed knobs picks only the anchor
by the L-score and keeps the hand score for the rest of choose; kf, nd, nf,
ff are keepFraction, nearDistance, nearFraction, farFraction; farCov c and
farDoc c keep a far sentence (of any / of another document) only when it
covers c x the anchor's coverage; marks=1 drops feature-matrix table rows
(a cell of marks only, such as "-" or a tick). The patch also has the two
answer types anchor.go ships with (limit, definition), in a first form:
definition matched any sentence opening with a question term; the shipped
form matches the thing asked about, which left every figure unchanged.
"""
import json
import math
import random
import sys

from sentence_oracle import QUESTIONS, f1

SETS = {
    "base": ["In", "Context", "Near", "Rank", "Limit", "Number", "Type", "Cosine"],
    "base+shape": ["In", "Context", "Near", "Rank", "Limit", "Number", "Type", "Cosine", "LogW", "First", "List", "Heaviest"],
}
KNOB = {"Context": "cc", "Near": "nc", "Rank": "rb", "Limit": "pb", "Number": "nb", "Type": "tb", "Cosine": "sw", "LogW": "lw", "First": "fw"}


TARGET = "sentence"


def load(path):
    refs = {}
    for line in open(QUESTIONS):
        d = json.loads(line)
        refs[d["question"]] = d
    cases = []
    for line in open(path):
        d = json.loads(line)
        r = refs.get(d["q"])
        if r is None or not r["answerable"] or not d["cands"]:
            continue
        for c in d["cands"]:
            c["y"] = f1(c["Text"], r["reference_answer"])
            if TARGET == "answer":
                # the prose answer built around it as the anchor
                c["y"] = f1(c["Answer"], r["reference_answer"]) if c.get("Answer") else -1
            c["F"]["LogW"] = math.log(c["F"]["Words"] / 15)
        if TARGET == "answer":
            d["cands"] = [c for c in d["cands"] if c.get("Answer")]
        d["id"] = r["id"]
        cases.append(d)
    return sorted(cases, key=lambda c: c["id"])  # the dump's order is the run's


def top1(cases, score):
    return sum(max(c["cands"], key=score)["y"] for c in cases) / len(cases)


def scorer(w, names):
    return lambda x: sum(a * x["F"][n] for a, n in zip(w, names))


def train(cases, names, lam, temp, epochs=200, lr=0.5):
    w = [0.0] * len(names)
    pre = []
    for c in cases:
        xs = [[x["F"][n] for n in names] for x in c["cands"]]
        ys = [x["y"] for x in c["cands"]]
        m = max(ys)
        t = [math.exp((v - m) / temp) for v in ys]
        z = sum(t)
        pre.append((xs, [v / z for v in t]))
    for _ in range(epochs):
        g = [0.0] * len(names)
        for xs, t in pre:
            s = [sum(a * b for a, b in zip(w, x)) for x in xs]
            m = max(s)
            p = [math.exp(v - m) for v in s]
            z = sum(p)
            for x, pi, ti in zip(xs, p, t):
                for k in range(len(w)):
                    g[k] += (pi / z - ti) * x[k]
        for k in range(len(w)):
            w[k] -= lr * (g[k] / len(pre) + lam * w[k])
    return w


def cv(cases, names, lam, temp, k=5, seeds=(1, 2, 3)):
    total = 0.0
    for seed in seeds:
        random.seed(seed)
        idx = list(range(len(cases)))
        random.shuffle(idx)
        for f in range(k):
            test = set(idx[f::k])
            w = train([cases[i] for i in idx if i not in test], names, lam, temp)
            total += top1([cases[i] for i in test], scorer(w, names)) * len(test)
    return total / len(cases) / len(seeds)


def main():
    global TARGET
    if len(sys.argv) > 2:
        TARGET = sys.argv[2]  # "sentence" (default) or "answer"
    cases = load(sys.argv[1])
    odd = [c for c in cases if int(c["id"][1:]) % 2 == 1]
    even = [c for c in cases if int(c["id"][1:]) % 2 == 0]
    hand = lambda x: x["Score"]
    print(f"cases with candidates: odd {len(odd)}, even {len(even)}")
    print(f"top-1 F1, hand-set score: odd {top1(odd, hand):.3f}, even {top1(even, hand):.3f}")
    print(f"top-1 F1, oracle:         odd {top1(odd, lambda x: x['y']):.3f}, even {top1(even, lambda x: x['y']):.3f}")
    for name, names in SETS.items():
        grid = [(lam, temp, cv(odd, names, lam, temp)) for lam in (0.003, 0.03) for temp in (0.05, 0.2)]
        for lam, temp, v in grid:
            print(f"{name}: lambda {lam} temperature {temp}: 5-fold CV (3 shuffles) top-1 F1 on odd {v:.3f}")
        lam, temp, _ = max(grid, key=lambda g: g[2])
        w = train(odd, names, lam, temp)
        print(f"{name}: chosen lambda {lam} temperature {temp}; fitted on odd, top-1 F1 on even {top1(even, scorer(w, names)):.3f}")
        scale = w[names.index("In")]
        print("  LLMOPS_KNOBS=\"" + " ".join(f"{KNOB[n]}={v / scale:.2f}" for n, v in zip(names, w) if n in KNOB) + "\"")


if __name__ == "__main__":
    main()
