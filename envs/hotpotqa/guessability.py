"""How much of a generated HotPotQASynth split the template alone answers.

The *step-0 guesser* reads no page: for each yes/no template it answers the split's majority
answer of that template (the best any template-only yes/no guess can do, in hindsight); it
cannot answer the other templates, whose answers are invented names or years. The *position
guesser* answers a value comparison from the page of the entity named first (or second,
whichever wins more often in the split). Chance is 50% for both.

``python -m envs.hotpotqa.guessability`` prints both for every generator and split.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Sequence
from dataclasses import dataclass

from envs.hotpotqa.data import COMPARISON_YESNO, YES_NO, QATask, question_type
from envs.hotpotqa.synth import DEFAULT_QUESTIONS, GENERATORS, SPLIT_CODES, build_synth


@dataclass(frozen=True)
class TemplateBalance:
    """One comparison template in one split: its outcomes and the majority guess's accuracy."""

    template: str
    counts: dict[str, int]  # outcome ("yes"/"no" or "first"/"second") -> questions

    @property
    def n(self) -> int:
        """Questions of the template."""
        return sum(self.counts.values())

    @property
    def majority(self) -> float:
        """Accuracy of always giving the template's most frequent outcome."""
        return max(self.counts.values()) / self.n

    @property
    def yes_no(self) -> bool:
        """Whether the outcomes are answers (yes/no) rather than winner positions."""
        return set(self.counts) <= set(YES_NO)


def balances(tasks: Sequence[QATask]) -> list[TemplateBalance]:
    """Outcome counts of every template with outcomes (the comparisons), by template name."""
    by: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for t in tasks:
        if t.outcome:
            by[t.template][t.outcome] += 1
    return [TemplateBalance(name, dict(sorted(c.items()))) for name, c in sorted(by.items())]


def step0_accuracy(tasks: Sequence[QATask]) -> float:
    """Share of all questions the step-0 guesser answers right (majority yes/no per template)."""
    right = sum(max(b.counts.values()) for b in balances(tasks) if b.yes_no)
    return right / len(tasks) if tasks else 0.0


def yes_no_share(tasks: Sequence[QATask]) -> float:
    """Share of questions whose answer is yes or no."""
    return sum(question_type(t) == COMPARISON_YESNO for t in tasks) / len(tasks) if tasks else 0.0


def answers_by_template(tasks: Sequence[QATask]) -> dict[str, collections.Counter[str]]:
    """How often each answer string occurs, per template."""
    by: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for t in tasks:
        by[t.template][t.answer] += 1
    return dict(sorted(by.items()))


def answer_majority(tasks: Sequence[QATask]) -> float:
    """Share of all questions answered by each template's most frequent answer string in the
    split (hindsight: an upper bound that also counts names and years repeated in a template,
    e.g. the few capitals)."""
    by = answers_by_template(tasks).values()
    return sum(c.most_common(1)[0][1] for c in by) / len(tasks) if tasks else 0.0


def report(seed: int = 0, n_questions: int = DEFAULT_QUESTIONS) -> str:
    """Markdown tables: per generator and split, the guessers' accuracy and template balance."""
    lines = [
        "| generator | split | questions | yes/no share | step-0 guesser (all questions) "
        "| answer-string majority (hindsight) |",
        "|---|---|---|---|---|---|",
    ]
    detail = [
        "",
        "| generator | split | template | outcomes | majority guess |",
        "|---|---|---|---|---|",
    ]
    strings = [
        "",
        "| generator | split | template | questions | distinct answers | top answer share |",
        "|---|---|---|---|---|---|",
    ]
    for gen in GENERATORS:
        data = build_synth(seed, n_questions, gen)
        for split in SPLIT_CODES:
            tasks = data[split][1]
            lines.append(
                f"| {gen} | {split} | {len(tasks)} | {yes_no_share(tasks):.3f} "
                f"| {step0_accuracy(tasks):.3f} | {answer_majority(tasks):.3f} |"
            )
            for b in balances(tasks):
                counts = " / ".join(f"{k} {v}" for k, v in b.counts.items())
                detail.append(f"| {gen} | {split} | {b.template} | {counts} | {b.majority:.3f} |")
            for name, c in answers_by_template(tasks).items():
                n, top = sum(c.values()), c.most_common(1)[0][1]
                strings.append(f"| {gen} | {split} | {name} | {n} | {len(c)} | {top / n:.3f} |")
    return "\n".join(lines + detail + strings)


def main(argv: Sequence[str] | None = None) -> None:
    """Print ``report`` for the given seed and split size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-questions", type=int, default=DEFAULT_QUESTIONS)
    args = ap.parse_args(argv)
    print(report(args.seed, args.n_questions))


if __name__ == "__main__":
    main()
