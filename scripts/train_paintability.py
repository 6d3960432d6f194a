"""Train the paintability classifier that ships in the package (`extension/data/paintability.json`).

Usage: python scripts/train_paintability.py ../shared [--seed 0]

Positives, texts written to be pictured: PartiPrompts' 1,632 prompts and 3,000 WikiArt painting titles (from
ArtGAN's lists). Negatives, definitional encyclopaedia sentences: the first sentence of 4,632 of the built-in
index's Wikipedia summaries ("X is a ..."). A logistic regression on MiniLM embeddings, as `--scoring scene`
computes them. Reported: accuracy on a 20 % held-out split, and on `scripts/data/paintability_judge.tsv`, 48
sentences written by hand (scenes against definitions, both in an encyclopaedia's register) before any result
was seen. With `empath` installed (`pip install --no-deps empath`), a lexicon baseline is measured on the same
judge: the share of words in Empath's physical-world categories, its threshold fitted on the training split.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

from creative_painting.extension.builtin import bundled_summaries
from creative_painting.extension.embedding import load_embedder
from creative_painting.extension.markup import split_sentences
from creative_painting.extension.paintability import MODEL_FILE, Paintability
from creative_painting.files import atomic_write_text
from creative_painting.wikiart.names import parse_path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "creative_painting" / "extension" / "data" / MODEL_FILE
JUDGE = HERE / "data" / "paintability_judge.tsv"
TITLES = 3000
# Chosen before measuring: Empath's categories of things, places, weather and actions one can see.
VISUAL = ["beach", "morning", "night", "water", "weather", "vehicle", "animal", "plant", "clothing", "fabric",
          "furniture", "fire", "ocean", "rural", "urban", "sailing", "ship", "car", "farming", "body",
          "shape_and_size", "liquid", "home", "cold", "warmth", "movement", "hiking", "swimming", "air_travel",
          "dance", "eating", "cooking", "appearance", "tool", "weapon", "beauty", "military", "war"]


def positives(shared: Path, rng: random.Random) -> list[str]:
    with open(shared / "data" / "prompts" / "PartiPrompts.tsv", encoding="utf-8") as f:
        prompts = [row["Prompt"] for row in csv.DictReader(f, delimiter="\t") if row["Prompt"].strip()]
    titles = set()
    with open(shared / "data" / "wikiart-metadata" / "style_train.csv", encoding="utf-8") as f:
        for line in f:
            try:
                title = parse_path(line.split(",")[0]).title
            except ValueError:
                continue
            if len(title.split()) >= 2 and not re.fullmatch(r"(?i)(untitled|self[- ]portrait|composition)\b.*", title):
                titles.add(title)
    return prompts + rng.sample(sorted(titles), TITLES)


def negatives(count: int, rng: random.Random) -> list[str]:
    summaries = json.loads(bundled_summaries().read_text(encoding="utf-8"))
    firsts = [s[0] for a in summaries.values() if (s := split_sentences(a.get("extract", "")))]
    return rng.sample(firsts, count)


def lexicon_scores(texts: list[str]) -> np.ndarray | None:
    try:
        from empath import Empath
    except ImportError:
        return None
    lexicon = Empath()
    scores = []
    for text in texts:
        counts = lexicon.analyze(text, categories=VISUAL, normalize=False) or {}
        scores.append(sum(counts.values()) / max(1, len(re.findall(r"[A-Za-z]+", text))))
    return np.asarray(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shared", type=Path, help="the shared/ folder (PartiPrompts, WikiArt lists)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = random.Random(args.seed)
    pos = positives(args.shared, rng)
    neg = negatives(len(pos), rng)
    texts, labels = pos + neg, np.asarray([1] * len(pos) + [0] * len(neg))
    embedder = load_embedder("minilm")
    print(f"embedding {len(texts):,} texts ({len(pos):,} positives, {len(neg):,} negatives)", file=sys.stderr)
    vectors = embedder.encode(texts)
    idx_train, idx_test = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=args.seed,
                                           stratify=labels)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(vectors[idx_train], labels[idx_train])
    model = Paintability(clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), "all-MiniLM-L6-v2")
    held_out = float(((model(vectors[idx_test]) > 0.5) == labels[idx_test]).mean())

    with open(JUDGE, encoding="utf-8") as f:
        judge = list(csv.DictReader(f, delimiter="\t"))
    judge_texts = [r["text"] for r in judge]
    judge_labels = np.asarray([r["label"] == "scene" for r in judge])
    judge_acc = float(((model(embedder.encode(judge_texts)) > 0.5) == judge_labels).mean())
    report = {"held_out_accuracy": round(held_out, 4), "held_out_size": len(idx_test),
              "judge_accuracy": round(judge_acc, 4), "judge_size": len(judge)}

    lexical = lexicon_scores([texts[i] for i in idx_train])
    if lexical is not None:  # the lexicon's threshold: the best one on the training split
        train_labels = labels[idx_train]
        threshold = max(np.unique(lexical), key=lambda t: ((lexical >= t) == train_labels).mean())
        report["lexicon_held_out_accuracy"] = round(float(
            ((lexicon_scores([texts[i] for i in idx_test]) >= threshold) == labels[idx_test]).mean()), 4)
        report["lexicon_judge_accuracy"] = round(float(((lexicon_scores(judge_texts) >= threshold) == judge_labels).mean()), 4)
    print(json.dumps(report, indent=2))
    about = {"trained_on": {"positives": f"PartiPrompts prompts (1,632) and {TITLES} WikiArt titles",
                            "negatives": "first sentences of the built-in index's Wikipedia summaries",
                            "seed": args.seed, "script": "scripts/train_paintability.py"}, **report}
    atomic_write_text(OUT, json.dumps(model.to_json(**about)) + "\n")
    print(f"-> {OUT} ({OUT.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
