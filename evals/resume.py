"""What `probity run --resume` compares before it adds a single record to a run folder.

A resumed run must answer with the same model, the same settings and the same scorers as the run it
continues, or its folder would hold answers from two configurations under a manifest naming one.
Each check raises a one-line UserError saying what differs (exit 2); nothing in the folder is
changed by a refused resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.errors import UserError
from evals.loader import LoadedSuite
from evals.manifest import Manifest
from evals.profiles import Profile
from evals.scoring import SCORER_VERSION

NEW_RUN = "start a new run instead of resuming"


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def differences(before: dict[str, Any], after: dict[str, Any], limit: int = 3) -> str:
    """`a.b: x → y` for the first `limit` fields that differ (secret fields say only that they changed)."""
    old, new = _flat(before), _flat(after)
    changed = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if key.startswith("headers."):
            changed.append(f"{key} changed")
        else:
            changed.append(f"{key}: {old.get(key)!r} → {new.get(key)!r}")
    more = f" and {len(changed) - limit} more" if len(changed) > limit else ""
    return "; ".join(changed[:limit]) + more


def check_resume(run_dir: Path, stored: Manifest, profile: Profile, suites: list[LoadedSuite]) -> None:
    """Refuse a resume whose profile, suite files or scorers differ from the run's manifest."""
    from evals.secrets import profile_digest, redact_profile

    where = f"--resume {run_dir}"
    if stored.scorer_version != SCORER_VERSION:
        raise UserError(f"{where}: the run was scored by scorer v{stored.scorer_version}, this probity scores "
                        f"with v{SCORER_VERSION}; rescore it (`probity rescore {run_dir}`) or {NEW_RUN}")
    now_redacted = redact_profile(profile)
    before = stored.profile.model_dump(mode="json")
    changed = (profile_digest(profile) != stored.profile_sha256 if stored.profile_sha256
               else now_redacted != before)
    if changed:
        what = differences(before, now_redacted) or "a header value or base_url credential changed"
        raise UserError(f"{where}: profile {profile.name} changed since the run started ({what}); {NEW_RUN}")
    names_before = [s.name for s in stored.suites]
    names_now = [ls.suite.name for ls in suites]
    if sorted(names_before) != sorted(names_now):
        added = sorted(set(names_now) - set(names_before))
        removed = sorted(set(names_before) - set(names_now))
        parts = ([f"added {', '.join(added)}"] if added else []) + ([f"missing {', '.join(removed)}"]
                                                                    if removed else [])
        raise UserError(f"{where}: the suite files differ from the run's ({'; '.join(parts)}); {NEW_RUN}")
    for ls in suites:
        entry = stored.suite(ls.suite.name)
        assert entry is not None
        if entry.sha256 != ls.sha256:
            raise UserError(f"{ls.path}: changed since run {stored.run_id} started; {NEW_RUN}")


def check_identity(run_dir: Path, stored: Manifest, identity: dict[str, Any]) -> None:
    """Refuse a resume whose model (weights hash, model id, served snapshot, device, dtype) differs.
    Fields only one side knows (added by a newer probity) are not compared."""
    before = stored.model_identity or {}
    shared = sorted(set(before) & set(identity))
    changed = {k: (before[k], identity[k]) for k in shared if before[k] != identity[k]}
    if changed:
        what = "; ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in list(changed.items())[:3])
        raise UserError(f"--resume {run_dir}: the model is not the one the run started with ({what}); {NEW_RUN}")
