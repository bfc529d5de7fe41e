"""The manifest: written last, it is what marks a dataset folder as complete."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .schema import TABLES

MANIFEST = "manifest.json"


def schema_fingerprint() -> str:
    """A digest of every table declaration: changes when any column, type or format changes."""
    spec = {
        name: {
            "domain": t.domain,
            "formats": list(t.formats),
            "variant": t.variant,
            "columns": [[c.name, str(c.type), c.nullable] for c in t.columns],
        }
        for name, t in sorted(TABLES.items())
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def code_fingerprint() -> str:
    """A digest of the generator's own source: any change to how rows are made changes it."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def schema_summary(tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Column names and types of ``tables``, for readers of the manifest."""
    return {
        name: [{"name": c.name, "type": str(c.type), "nullable": c.nullable} for c in TABLES[name].columns]
        for name in sorted(tables)
    }


def read(folder: Path) -> dict[str, Any] | None:
    """The manifest of a complete dataset folder, or None when there is none (or it is unreadable)."""
    path = folder / MANIFEST
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None


def write(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest (deterministically: sorted keys, no timestamps)."""
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def same_request(manifest: dict[str, Any] | None, params: dict[str, Any]) -> bool:
    """True when ``manifest`` records exactly ``params`` and the current schema."""
    if manifest is None:
        return False
    recorded = {k: manifest.get(k) for k in params}
    return (
        recorded == params
        and manifest.get("schema_fingerprint") == schema_fingerprint()
        and manifest.get("code_fingerprint") == code_fingerprint()
    )


def verify(folder: Path) -> list[str]:
    """Problems found by re-hashing every file listed in the manifest (empty list: all good)."""
    from .writers import sha256

    manifest = read(folder)
    if manifest is None:
        return [f"{folder}: no {MANIFEST} (the dataset is missing or its generation did not finish)"]
    problems = []
    for name, info in manifest["tables"].items():
        for rel, digest in info["files"].items():
            path = folder / rel
            if not path.exists():
                problems.append(f"{name}: {rel} is missing")
            elif sha256(path) != digest:
                problems.append(f"{name}: {rel} was modified")
    return problems
