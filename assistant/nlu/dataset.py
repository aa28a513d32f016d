"""The labelled utterances under assistant/nlu/data/<style>/<author>.tsv.

Each file is one author writing in one style (tab-separated, header
`intent  role  text`). The intent column may hold:
- one intent (`book_appointment`);
- an emergency and its kind (`emergency:poisoning`);
- two requests in one sentence (`cancel_appointment+request_refill`): either
  counts as understood, the first is what the classifier learns.

data/evaluation.txt names the held-out files: whole author files, never single
sentences, so a measured sentence was never seen in training, nor was anything
else its author wrote. Everything else (and the older assistant/data/train.jsonl)
is training data.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_ROOT = Path(__file__).resolve().parent / "data"
EVALUATION_LIST = DATA_ROOT / "evaluation.txt"
LEGACY_TRAINING_FILE = Path(__file__).resolve().parent.parent / "data" / "train.jsonl"

STYLES = (
    "clean",
    "asr",
    "typos",
    "nonnative",
    "short",
    "rambling",
    "negation",
    "double",
    "emergency",
    "nearmiss",
)


@dataclass(frozen=True)
class Example:
    text: str
    role: str
    intent: str
    # Other intents that also count as understood (two requests in one sentence).
    also: tuple[str, ...] = ()
    # The kind of emergency, for emergency lines.
    kind: str | None = None
    style: str = ""
    source: str = ""

    @property
    def is_emergency(self) -> bool:
        return self.intent == "emergency"

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset((self.intent, *self.also))


def _parse_label(label: str) -> tuple[str, tuple[str, ...], str | None]:
    if label.startswith("emergency:"):
        return "emergency", (), label.split(":", 1)[1]
    first, *rest = label.split("+")
    return first, tuple(rest), None


def read_tsv(path: Path) -> list[Example]:
    relative = path.relative_to(DATA_ROOT).as_posix()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    examples = []
    for row in rows:
        intent, also, kind = _parse_label(row["intent"].strip())
        examples.append(
            Example(
                text=row["text"].strip(),
                role=row["role"].strip(),
                intent=intent,
                also=also,
                kind=kind,
                style=path.parent.name,
                source=relative,
            )
        )
    return examples


def all_files() -> list[Path]:
    return sorted(DATA_ROOT.glob("*/*.tsv"))


def evaluation_names() -> frozenset[str]:
    lines = EVALUATION_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def split_files() -> tuple[list[Path], list[Path]]:
    """(training files, held-out files)."""
    held_out = evaluation_names()
    files = all_files()
    training = [p for p in files if p.relative_to(DATA_ROOT).as_posix() not in held_out]
    evaluation = [p for p in files if p.relative_to(DATA_ROOT).as_posix() in held_out]
    return training, evaluation


def legacy_training() -> list[Example]:
    with LEGACY_TRAINING_FILE.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Example(text=r["text"], role=r["role"], intent=r["intent"], source="train.jsonl")
        for r in rows
    ]


@cache
def training_examples() -> tuple[Example, ...]:
    training, _held_out = split_files()
    return tuple(legacy_training() + [e for path in training for e in read_tsv(path)])


@cache
def evaluation_examples() -> tuple[Example, ...]:
    _training, held_out = split_files()
    return tuple(e for path in held_out for e in read_tsv(path))
