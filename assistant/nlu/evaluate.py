"""Measure the assistant's understanding on the held-out author files.

    .venv/bin/python -m assistant.nlu.evaluate [--errors]

Prints intent accuracy per style, emergency recall, the false-alarm rate and
a reliability table of the intent confidence. The held-out files (listed in
assistant/nlu/data/evaluation.txt) are never trained on; see dataset.py.

How a line is scored:
- an emergency line is recalled when the 911 (or 988) answer is shown, sure or
  "Is this happening now?";
- any emergency answer on another line is a false alarm, and that line is
  also counted wrong;
- otherwise the line is right when the intent is the one labelled (for two
  requests in one sentence, either of them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class StyleScore:
    total: int = 0
    right: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 1.0


@dataclass
class Report:
    styles: dict[str, StyleScore] = field(default_factory=lambda: defaultdict(StyleScore))
    emergencies: int = 0
    recalled: int = 0
    asked: int = 0
    non_emergencies: int = 0
    false_alarms: int = 0
    both_in_top2: int = 0
    doubles: int = 0
    # (confidence, right) of every non-emergency line the classifier answered.
    confidences: list[tuple[float, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.styles.values())

    @property
    def accuracy(self) -> float:
        return sum(s.right for s in self.styles.values()) / max(self.total, 1)

    @property
    def recall(self) -> float:
        return self.recalled / max(self.emergencies, 1)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / max(self.non_emergencies, 1)

    def reliability(self, bins: int = 5) -> list[tuple[float, float, int, float, float]]:
        """(low, high, lines, mean confidence, accuracy) per confidence bin."""
        rows = []
        edges = [n / bins for n in range(bins + 1)]
        for low, high in zip(edges, edges[1:], strict=False):
            inside = [
                (c, ok) for c, ok in self.confidences if low <= c < high or (high == 1 and c == 1)
            ]
            if not inside:
                rows.append((low, high, 0, 0.0, 0.0))
                continue
            mean = sum(c for c, _ok in inside) / len(inside)
            accuracy = sum(1 for _c, ok in inside if ok) / len(inside)
            rows.append((low, high, len(inside), mean, accuracy))
        return rows

    @property
    def calibration_error(self) -> float:
        """Expected calibration error: the lines' weighted gap between confidence and accuracy."""
        total = len(self.confidences) or 1
        return sum(n * abs(mean - acc) for _l, _h, n, mean, acc in self.reliability(10)) / total


def evaluate(examples=None) -> Report:
    """Score `examples` (default: the held-out author files)."""
    from assistant.nlu import check_emergency
    from assistant.nlu.dataset import evaluation_examples
    from assistant.nlu.intents import classify

    report = Report()
    for example in examples if examples is not None else evaluation_examples():
        role = "provider" if example.role == "provider" else "patient"
        emergency = check_emergency(example.text, role)
        score = report.styles[example.style]
        score.total += 1
        if example.is_emergency:
            report.emergencies += 1
            if emergency is not None:
                report.recalled += 1
                score.right += 1
                report.asked += 0 if emergency.certain else 1
            else:
                report.errors.append(f"MISSED EMERGENCY [{example.source}] {example.text}")
            continue
        report.non_emergencies += 1
        prediction = classify(example.text, role)
        if emergency is not None:
            report.false_alarms += 1
            report.errors.append(
                f"FALSE ALARM ({emergency.kind}, {'sure' if emergency.certain else 'asked'}) "
                f"[{example.source}] {example.text}"
            )
            continue
        right = prediction.intent.value in example.accepted
        score.right += int(right)
        report.confidences.append((prediction.confidence, right))
        if example.also:
            report.doubles += 1
            top2 = {i.value for i, _p in prediction.top2}
            report.both_in_top2 += int(example.accepted <= top2)
        if not right:
            report.errors.append(
                f"WRONG {prediction.intent.value} ({prediction.confidence:.2f}) for "
                f"{'/'.join(sorted(example.accepted))} [{example.source}] {example.text}"
            )
    return report


def render(report: Report) -> str:
    lines = [f"{'style':<12}{'lines':>7}{'accuracy':>10}"]
    for style, score in sorted(report.styles.items()):
        lines.append(f"{style:<12}{score.total:>7}{score.accuracy:>10.1%}")
    lines.append(f"{'overall':<12}{report.total:>7}{report.accuracy:>10.1%}")
    lines.append("")
    lines.append(
        f"emergency recall: {report.recalled}/{report.emergencies} ({report.recall:.1%}); "
        f"{report.asked} of them with 'Is this happening now?'"
    )
    lines.append(
        f"false alarms: {report.false_alarms}/{report.non_emergencies} ({report.false_alarm_rate:.1%})"
    )
    if report.doubles:
        lines.append(
            f"two requests in one sentence: both in the top two for {report.both_in_top2}/{report.doubles}"
        )
    lines.append("")
    lines.append("reliability of the intent confidence (non-emergency lines):")
    lines.append(f"{'confidence':<12}{'lines':>7}{'mean conf':>11}{'accuracy':>10}")
    for low, high, count, mean, accuracy in report.reliability():
        label = f"{low:.1f}-{high:.1f}"
        if count:
            lines.append(f"{label:<12}{count:>7}{mean:>11.2f}{accuracy:>10.1%}")
        else:
            lines.append(f"{label:<12}{count:>7}{'-':>11}{'-':>10}")
    lines.append(f"expected calibration error: {report.calibration_error:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every line gotten wrong")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthcare.settings")
    import django

    django.setup()
    report = evaluate()
    print(render(report))
    if args.errors:
        print()
        print("\n".join(report.errors) or "no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
