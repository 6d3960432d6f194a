"""A candidate extension: its text and where it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    text: str
    kind: str  # the generator: "wikipedia", "scene", "t5", "dialogpt", "causal", "chat", "rewrite"
    title: str | None = None  # the Wikipedia article it came from
    origin: str | None = None  # the sentence it was composed, rewritten or shortened from
    sources: tuple[str, ...] = ()  # ids of the retrieved sentences it rests on (`scenes.sentence_id`)

    def with_text(self, text: str) -> Candidate:
        """The same candidate with new words; the first text it had stays its origin."""
        return Candidate(text, self.kind, self.title, self.origin or self.text, self.sources)
