"""`probity merge`: join the run folders of `--shard i/n` runs into one ordinary run folder.

The shards must be runs of one configuration: the same suite files (by SHA-256), profile (by its
digest), settings other than the shard, scorer version and model identity, with shards 1..n each
given once. Every task of the plan (recomputed from the suite files) must have exactly one record,
and each record must belong to the shard that holds it. Anything else is one line and exit 2; the
merged folder is written only when all of it holds. Reports, compare, gates and JUnit read the
merged folder like any other run.
"""

from __future__ import annotations

from pathlib import Path

from evals.errors import UserError
from evals.loader import load_suite
from evals.manifest import Manifest, read_manifest, write_manifest
from evals.plan import in_shard, parse_shard, plan
from evals.records import RECORDS_NAME, Record, RecordWriter, read_records, record_counts, run_folder
from evals.resume import differences
from evals.runner import add_usage


def _same_run(first: tuple[Path, Manifest], other: tuple[Path, Manifest]) -> None:
    (dir_a, a), (dir_b, b) = first, other
    what = ""
    # suite files are compared by content and the profile by digest below: paths may differ per job
    settings_a = a.config.model_dump(exclude={"shard", "cache", "suite_args", "provider"})
    settings_b = b.config.model_dump(exclude={"shard", "cache", "suite_args", "provider"})
    if settings_a != settings_b:
        what = f"settings ({differences(settings_a, settings_b)})"
    elif [(s.name, s.sha256) for s in a.suites] != [(s.name, s.sha256) for s in b.suites]:
        what = "suite files"
    elif (a.profile_sha256 or b.profile_sha256) and a.profile_sha256 != b.profile_sha256:
        what = "profile"
    elif a.scorer_version != b.scorer_version:
        what = f"scorer version (v{a.scorer_version} and v{b.scorer_version})"
    else:
        ia, ib = a.model_identity or {}, b.model_identity or {}
        changed = sorted(k for k in set(ia) & set(ib) if ia[k] != ib[k])
        if changed:
            what = f"model identity ({', '.join(changed)})"
    if what:
        raise UserError(f"{dir_b}: not a shard of the same run as {dir_a}: the {what} differ")


def _shards(runs: list[tuple[Path, Manifest]]) -> int:
    seen: dict[int, Path] = {}
    total = None
    for run_dir, m in runs:
        if m.config.shard is None:
            raise UserError(f"{run_dir}: not a shard run (started without --shard)")
        i, n = parse_shard(m.config.shard)
        if total is not None and n != total:
            raise UserError(f"{run_dir}: shard {i}/{n}, but the others are shards of {total}")
        total = n
        if i in seen:
            raise UserError(f"{run_dir}: shard {i}/{n} is given twice (also {seen[i]})")
        seen[i] = run_dir
    assert total is not None
    missing = [f"{i}/{total}" for i in range(1, total + 1) if i not in seen]
    if missing:
        raise UserError(f"merge: shard {', '.join(missing)} missing; give every shard's run folder")
    return total


def _planned(manifest: Manifest) -> list[str]:
    suites = []
    for entry in manifest.suites:
        loaded = load_suite(entry.path) if Path(entry.path).is_file() else None
        if loaded is None or loaded.sha256 != entry.sha256:
            state = "not found" if loaded is None else "changed since the shards ran"
            raise UserError(f"{entry.path}: {state}; merge needs the suite files the shards ran")
        suites.append(loaded)
    cfg = manifest.config
    return [t.key for t in plan(suites, cfg.modes, cfg.samples, cfg.limit)]


def merge_runs(run_dirs: list[Path], out: Path) -> tuple[Path, Manifest]:
    if len(run_dirs) < 2:
        raise UserError("merge: give the run folders of at least two shards")
    runs = [(run_folder(d), read_manifest(run_folder(d))) for d in run_dirs]
    for other in runs[1:]:
        _same_run(runs[0], other)
    _shards(runs)
    first = runs[0][1]
    found: dict[str, tuple[Record, Path]] = {}
    for run_dir, m in runs:
        for record in read_records(run_dir):
            if record.key in found:
                raise UserError(f"{run_dir}: task {record.key} also has a record in {found[record.key][1]}")
            if not in_shard(record.key, m.config.shard):
                raise UserError(f"{run_dir}: task {record.key} does not belong to shard {m.config.shard}")
            found[record.key] = (record, run_dir)
    keys = _planned(first)
    missing = [k for k in keys if k not in found]
    if missing:
        raise UserError(f"merge: {len(missing)} task(s) have no record in any shard (first: {missing[0]}); "
                        "finish that shard with `probity run --resume SHARD_RUN`")
    extra = sorted(set(found) - set(keys))
    if extra:
        raise UserError(f"{found[extra[0]][1]}: task {extra[0]} is not in the suites' plan")
    try:
        out.mkdir(parents=True)
    except FileExistsError as exc:
        raise UserError(f"--out {out}: already exists; merge writes a new run folder") from exc
    except OSError as exc:
        raise UserError(f"--out {out}: cannot create the run folder: {exc.strerror}") from exc
    records = [found[key][0].model_copy(update={"run_id": out.name}) for key in keys]
    with RecordWriter(out / RECORDS_NAME) as writer:
        for record in records:
            writer.write(record)
    counts: dict[str, int | None] = {"tasks": len(keys), **record_counts(records)}
    statuses = [m.status for _, m in runs]
    manifest = first.model_copy(update={
        "run_id": out.name,
        "config": first.config.model_copy(update={"shard": None}),
        "started_at": min((m.started_at or "" for _, m in runs), default=None) or None,
        "finished_at": max((m.finished_at or "" for _, m in runs), default=None) or None,
        "status": next((s for s in statuses if s != "finished"), "finished"),
        "stopped_because": next((m.stopped_because for _, m in runs if m.stopped_because), None),
        "counts": counts,
        "retries": sum(m.retries for _, m in runs),
        "cache": None,
        "resumes": [],
        "merged_from": [m.run_id for _, m in runs],
        "endpoints": add_usage(*(m.endpoints for _, m in runs if m.endpoints)) or None,
    })
    write_manifest(out, manifest)
    return out, manifest
