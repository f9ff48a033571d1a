"""Run-stamped data lake: ``<LAKE>/<stage>/<run_id>/<table>.parquet`` plus
``<LAKE>/runs/<run_id>/manifest.json``.

Writes are atomic (temporary file in the same folder, then rename), so a reader never sees half a
table. The root is any fsspec URL (local folder by default, s3:// in production). Airflow tasks pass
run ids and the URIs returned here, never data frames.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import fsspec
import pandas as pd

from core.settings import lake_root

MANIFEST = "manifest.json"


def _join(*parts: str) -> str:
    return "/".join(p.rstrip("/") for p in parts if p)


def _fs(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def table_uri(stage: str, run_id: str, table: str, root: str | None = None) -> str:
    return _join(root or lake_root(), stage, run_id, f"{table}.parquet")


def manifest_uri(run_id: str, root: str | None = None) -> str:
    return _join(root or lake_root(), "runs", run_id, MANIFEST)


def atomic_write_bytes(uri: str, data: bytes) -> str:
    """Write bytes to ``uri`` so that readers see either the old file or the whole new one."""
    fs, path = _fs(uri)
    parent = path.rsplit("/", 1)[0]
    fs.makedirs(parent, exist_ok=True)
    tmp = f"{parent}/.tmp-{uuid.uuid4().hex}-{path.rsplit('/', 1)[-1]}"
    with fs.open(tmp, "wb") as fh:
        fh.write(data)
    try:
        fs.mv(tmp, path)
    except Exception:
        fs.rm(tmp)
        raise
    return uri


def frame_to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic parquet bytes: same frame in, same bytes out."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    return buf.getvalue()


def write_table(df: pd.DataFrame, stage: str, run_id: str, table: str, root: str | None = None) -> str:
    """Write one table atomically; returns its URI."""
    return atomic_write_bytes(table_uri(stage, run_id, table, root), frame_to_parquet_bytes(df))


def read_table(stage: str, run_id: str, table: str, root: str | None = None) -> pd.DataFrame:
    return read_uri(table_uri(stage, run_id, table, root))


class LakeDataError(ValueError):
    """A lake table is missing or cannot be read (truncated or corrupt). ``uri`` names the file, ``kind``
    is ``missing`` or ``corrupt``; :mod:`core.catalog` adds the dataset and which stage to re-run."""

    def __init__(self, uri: str, kind: str, detail: str, hint: str = ""):
        self.uri, self.kind, self.detail, self.hint = uri, kind, detail, hint
        what = "is missing" if kind == "missing" else "is truncated or corrupt"
        super().__init__(f"lake file {uri} {what} ({detail})" + (f"; {hint}" if hint else ""))


def read_uri(uri: str, dictionary: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Read a parquet table; ``dictionary`` names string columns to read dictionary-encoded (pandas
    categoricals: no per-row string objects, for repeated keys such as supplier ids)."""
    import pyarrow as pa

    fs, path = _fs(uri)
    try:
        with fs.open(path, "rb") as fh:
            return pd.read_parquet(fh, read_dictionary=list(dictionary)) if dictionary else pd.read_parquet(fh)
    except FileNotFoundError as e:
        raise LakeDataError(uri, "missing", "no such file") from e
    except (pa.ArrowException, OSError) as e:
        try:
            size = f"{fs.size(path)} bytes"
        except Exception:  # noqa: BLE001 - the size is only a detail of the message
            size = "size unknown"
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        first = re.sub(r"Could not open Parquet input source '<Buffer>':\s*", "", first)  # the path is named above
        raise LakeDataError(uri, "corrupt", f"{size}; {type(e).__name__}: {first}") from e


def read_bytes(uri: str) -> bytes:
    fs, path = _fs(uri)
    with fs.open(path, "rb") as fh:
        return fh.read()


def exists(uri: str) -> bool:
    fs, path = _fs(uri)
    return fs.exists(path)


def list_tables(stage: str, run_id: str, root: str | None = None) -> list[str]:
    fs, path = _fs(_join(root or lake_root(), stage, run_id))
    if not fs.exists(path):
        return []
    return sorted(p.rsplit("/", 1)[-1][: -len(".parquet")] for p in fs.ls(path, detail=False)
                  if p.endswith(".parquet"))


def list_runs(root: str | None = None) -> list[str]:
    """Run ids that have a manifest, sorted by name (weekly run ids sort by date)."""
    fs, path = _fs(_join(root or lake_root(), "runs"))
    if not fs.exists(path):
        return []
    return sorted(p.rsplit("/", 1)[-1] for p in fs.ls(path, detail=False))


def _section_uri(run_id: str, section: str, root: str | None) -> str:
    return _join(root or lake_root(), "runs", run_id, "sections", quote(section, safe="") + ".json")


def read_manifest(run_id: str, root: str | None = None) -> dict[str, Any]:
    """The run manifest: one entry per section. Sections are stored as separate files so that stages
    running in parallel (accounting beside training) never overwrite each other's record."""
    fs, path = _fs(_join(root or lake_root(), "runs", run_id, "sections"))
    manifest: dict[str, Any] = {"run_id": run_id}
    if not fs.exists(path):
        return manifest
    for p in sorted(fs.ls(path, detail=False)):
        name = p.rsplit("/", 1)[-1]
        if name.endswith(".json") and not name.startswith(".tmp"):
            with fs.open(p, "rb") as fh:
                manifest[unquote(name[: -len(".json")])] = json.loads(fh.read().decode("utf-8"))
    return manifest


def update_manifest(run_id: str, section: str, content: Mapping[str, Any], root: str | None = None) -> dict:
    """Replace one section of the run manifest and refresh ``manifest.json`` (idempotent: the same
    content gives the same files)."""
    data = json.dumps(jsonable(content), indent=2, sort_keys=True, allow_nan=False, default=str)
    atomic_write_bytes(_section_uri(run_id, section, root), data.encode("utf-8"))
    manifest = read_manifest(run_id, root)
    atomic_write_bytes(manifest_uri(run_id, root),
                       json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
    return manifest


def jsonable(v: Any) -> Any:
    """Strict-JSON form for manifests and XCom: NaN/inf become None, numpy scalars Python numbers."""
    import math

    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def frame_hash(df: pd.DataFrame) -> str:
    """Content hash of a frame, independent of how it was stored."""
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return h.hexdigest()
