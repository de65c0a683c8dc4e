"""Markdown reports rebuilt from run folders (never from a model)."""

from __future__ import annotations

from pathlib import Path

from evals.manifest import now
from evals.metrics import records_frame
from evals.records import iter_records, read_manifest
from evals.tables import summary_tables


def render_report(run_dirs: list[Path]) -> str:
    parts = [f"# probity report\n\n_generated {now()}_\n"]
    for run_dir in run_dirs:
        m = read_manifest(run_dir)
        profile = m.get("profile", {})
        parts.append(f"## Run `{m.get('run_id', run_dir.name)}`\n\n"
                     f"- model: `{profile.get('model')}` ({profile.get('adapter')}, profile `{profile.get('name')}`)\n"
                     f"- suites: " + ", ".join(f"{s['name']} v{s['version']} (`{s['sha256'][:12]}`)"
                                               for s in m.get("suites", [])) + "\n"
                     f"- probity {m.get('probity_version')}, scorer v{m.get('scorer_version')}, "
                     f"commit `{m.get('git_commit')}`\n")
        df = records_frame(iter_records(run_dir))
        for title, table in summary_tables(df, run_dir).items():
            parts.append(f"### {title}\n\n{table}\n")
    return "\n".join(parts)


def write_report(run_dirs: list[Path], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(run_dirs), encoding="utf-8")
    return out


def step_summary(run_dir: Path) -> str:
    df = records_frame(iter_records(run_dir))
    tables = summary_tables(df, run_dir)
    return f"## probity: {run_dir.name}\n\n{tables['Per suite']}\n\n"
