"""Re-apply the current scorers to a run's stored answers, without a model, into a new run folder.

Each scored record's final answer (`response.text`; in tools mode the last model turn, as at run time)
is scored again against its item, reloaded from the suite file the manifest names, with the identity
and knowledge cutoff of the stored profile. Error records stay errors. An item that is no longer in its
suite file (or a suite file that cannot be loaded) keeps its old score, and the summary says so. The new
folder `<run_id>-rescored-<n>` gets a manifest with `rescored_from`, the current `scorer_version` and the
counts of changed verdicts. A tools-mode record whose transcript ended at the step limit is `invalid`
again, as at run time (evals/tools/step_limit.py), whether or not its item is still in the suite.

With `judge=PROFILE` every scored record also gets a judge verdict (evals/judge.py) before the folder
is written; `score_with="judge"` makes the judge's verdict the record's score (the rule verdict is kept
in `judge.rule`). The manifest's `judge` entry counts the verdicts, the unscored ones and the cache hits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evals.errors import UserError
from evals.loader import load_suite
from evals.manifest import Manifest, now, read_manifest, write_manifest
from evals.records import Record, RecordWriter, read_records, run_folder
from evals.schema import Item
from evals.scoring import SCORER_VERSION, ScoreContext, score
from evals.tools.step_limit import step_limit_score

if TYPE_CHECKING:
    from evals.judge import JudgeStats


@dataclass
class RescoreResult:
    run_dir: Path
    total: int = 0  # scored records looked at
    changed: int = 0  # outcome or passed changed
    passed_flips: int = 0
    kept: int = 0  # item gone: old score kept
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    judge: JudgeStats | None = None


def _new_dir(run_dir: Path, out: Path | None, run_id: str) -> Path:
    parent = out if out is not None else run_dir.parent
    n = 1
    while (parent / f"{run_id}-rescored-{n}").exists():
        n += 1
    return parent / f"{run_id}-rescored-{n}"


def suite_items(manifest: Manifest, notes: list[str]) -> dict[str, dict[str, Item]]:
    """The items of each suite the manifest names, from its file as it is now (notes say what changed)."""
    out: dict[str, dict[str, Item]] = {}
    for s in manifest.suites:
        path = Path(s.path)
        if not path.is_file():
            notes.append(f"{s.name}: suite file {path} not found; old scores kept")
            continue
        try:
            loaded = load_suite(path)
        except UserError as exc:
            notes.append(f"{s.name}: {path} no longer loads ({exc.lines[0] if exc.lines else exc}); old scores kept")
            continue
        if loaded.sha256 != s.sha256:
            change = (f"v{s.version} → v{loaded.suite.version}" if s.version != loaded.suite.version
                      else f"still v{loaded.suite.version}, different content")
            notes.append(f"{s.name}: {path} changed since the run ({change}); items are scored against the "
                         "current file")
        out[s.name] = {item.id: item for item in loaded.suite.items}
    return out


def _counts(records: list[Record], tasks: int | None) -> dict[str, int | None]:
    counts: Counter[str] = Counter()
    for rec in records:
        counts["records"] += 1
        counts["cached"] += rec.cached
        if rec.error or rec.score is None:
            counts["errors"] += 1
        else:
            counts[rec.score.outcome] += 1
    return {"tasks": tasks, **counts}


def rescore_run(run_dir: Path, out: Path | None = None, judge: str | None = None, score_with: str = "rule",
                use_cache: bool = True) -> RescoreResult:
    run_dir = run_folder(run_dir)
    manifest = read_manifest(run_dir)
    records = read_records(run_dir)  # a damaged run is refused before anything is written
    if judge is not None:
        from evals.judge import load_judge_profile

        load_judge_profile(judge)  # an unknown judge is one line before anything is written
    old_id = manifest.run_id
    new_dir = _new_dir(run_dir, out, old_id)
    ctx = ScoreContext(identity=manifest.profile.identity, knowledge_cutoff=manifest.profile.knowledge_cutoff)
    result = RescoreResult(new_dir)
    items = suite_items(manifest, result.notes)
    checks = {s.name: s.check for s in manifest.suites}
    gone: Counter[str] = Counter()
    new_records: list[Record] = []
    for rec in records:
        if rec.error or rec.score is None:
            new_records.append(rec.model_copy(update={"run_id": new_dir.name}))
            continue
        result.total += 1
        item = items.get(rec.suite, {}).get(rec.item_id)
        limited = step_limit_score(rec.transcript)  # needs no item: same rule as at run time
        if item is None and limited is None:
            if rec.suite in items:
                gone[rec.suite] += 1
            result.kept += 1
            new_records.append(rec.model_copy(update={"run_id": new_dir.name}))
            continue
        new = limited or score(checks.get(rec.suite) or rec.check, item, rec.response.text, ctx)
        old = rec.judge.rule if rec.judge is not None and rec.judge.rule is not None else rec.score
        if (new.outcome, new.passed) != (old.outcome, old.passed):
            result.changed += 1
            result.passed_flips += new.passed != old.passed
            result.transitions[(old.outcome, new.outcome)] += 1
        # an earlier judge verdict is about the same answer and stays; the new rule verdict is the score
        earlier = rec.judge.model_copy(update={"rule": None}) if rec.judge is not None else None
        new_records.append(rec.model_copy(update={"run_id": new_dir.name, "score": new, "judge": earlier,
                                                  "scorer_version": SCORER_VERSION}))
    for suite, n in sorted(gone.items()):
        result.notes.append(f"{suite}: {n} answers whose item is no longer in the suite file kept their old score")
    if judge is not None:
        from evals.judge import judge_records

        new_records, result.judge = judge_records(new_records, items, ctx, judge, score_with, use_cache)
    try:
        new_dir.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"--out {new_dir.parent}: cannot create the rescored run folder: {exc.strerror}") from exc
    with RecordWriter(new_dir / "records.jsonl") as writer:
        for rec in new_records:
            writer.write(rec)
    extra = {"judge": result.judge.as_dict()} if result.judge is not None else {}
    write_manifest(new_dir, manifest.model_copy(update={
        "run_id": new_dir.name,
        "rescored_from": old_id,
        "rescored_at": now(),
        "previous_scorer_version": manifest.scorer_version,
        "scorer_version": SCORER_VERSION,
        "counts": _counts(new_records, manifest.counts.get("tasks")),
        "rescore": {"scored": result.total, "changed": result.changed, "passed_flips": result.passed_flips,
                    "kept_old_score": result.kept, "notes": result.notes},
        **extra,
    }))
    return result


def summary(result: RescoreResult, old_dir: Path) -> str:
    lines = [f"rescored {old_dir} → {result.run_dir} (scorer v{SCORER_VERSION})",
             f"{result.changed} of {result.total} verdicts changed ({result.passed_flips} pass/fail flips)"
             + (f"; {result.kept} kept their old score" if result.kept else "")]
    for (before, after), n in sorted(result.transitions.items()):
        lines.append(f"  {before} → {after}: {n}")
    lines += [f"note: {note}" for note in result.notes]
    if result.judge is not None:
        from evals.judge import summary as judge_summary

        lines.append(judge_summary(result.judge))
    return "\n".join(lines)
