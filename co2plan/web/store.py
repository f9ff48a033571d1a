"""The web app's own database (SQLAlchemy Core): users, sessions, API tokens, login throttle, supplier
submissions (append-only, versioned), quarantine, audit trail, assurances and scenario runs.

SQLite file by default (WAL, ``BEGIN IMMEDIATE`` write transactions, so concurrent submissions serialise
instead of failing), PostgreSQL in production (an advisory lock per supplier around version numbering).
Append-only is enforced by the database: triggers refuse UPDATE and DELETE on submission rows, quarantine
and the audit log. No fastapi import here, so the weekly pipeline can read accepted submissions.

Row separation: every function that reads supplier data takes the supplier id as its first argument and
filters on it in SQL (``WHERE supplier_id = :sid``); there is no unfiltered reader for supplier users. On
PostgreSQL these reads also run as the database role ``co2plan_supplier`` with the supplier id in the
transaction setting ``co2plan.supplier_id``, and row-level security policies on the submission tables and the
audit log let that role see only rows of that supplier: a query that forgets the filter still returns only the
caller's rows (:meth:`Store.supplier_session`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

__all__ = ["Store", "SUBMISSION_FIELDS", "RECORD_KEY", "AppendOnlyError", "RLS_TABLES", "SUPPLIER_ROLE"]

#: the contract columns a supplier submits (core.tables ``supplier_submissions`` without the ids the portal
#: sets itself: supplier_id, submission_id, version, submitted_on)
SUBMISSION_FIELDS = ("year", "commodity", "plant_id", "product_id", "activity_qty", "activity_unit", "tco2e",
                     "method", "dq_tier")
#: what identifies one record of a supplier across versions (plant_id may be empty: a sale to another supplier)
RECORD_KEY = ("year", "commodity", "plant_id")
ROLES = ("supplier", "viewer", "planner", "admin")

md = sa.MetaData()

users = sa.Table(
    "users", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("pw_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("supplier_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.CheckConstraint("role in ('supplier','viewer','planner','admin')", name="ck_users_role"),
    sa.CheckConstraint("(role = 'supplier') = (supplier_id is not null)", name="ck_users_supplier_bound"),
)
sessions = sa.Table(
    "sessions", md,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
)
api_tokens = sa.Table(
    "api_tokens", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
)
login_attempts = sa.Table(
    "login_attempts", md,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("window_start", sa.DateTime, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
)
batches = sa.Table(
    "submission_batches", md,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("supplier_id", sa.String(64), nullable=False, index=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("rows_in", sa.Integer, nullable=False),
    sa.Column("rows_stored", sa.Integer, nullable=False),
    sa.Column("rows_quarantined", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("supplier_id", "idempotency_key", name="uq_batch_idempotency"),
)
rows = sa.Table(
    "submission_rows", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey("submission_batches.id"), nullable=False),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("supplier_id", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("commodity", sa.String(64), nullable=False),
    sa.Column("plant_id", sa.String(64)),
    sa.Column("product_id", sa.String(64)),
    sa.Column("activity_qty", sa.Float),
    sa.Column("activity_unit", sa.String(16)),
    sa.Column("tco2e", sa.Float, nullable=False),
    sa.Column("method", sa.String(64), nullable=False),
    sa.Column("dq_tier", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.UniqueConstraint("supplier_id", "record_key", "version", name="uq_row_version"),
    sa.UniqueConstraint("batch_id", "source_row", name="uq_row_source"),
    sa.CheckConstraint("status in ('accepted','flagged','rejected')", name="ck_row_status"),
    sa.Index("ix_rows_supplier_key", "supplier_id", "record_key"),
)
quarantine = sa.Table(
    "submission_quarantine", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey("submission_batches.id"), nullable=False, index=True),
    sa.Column("supplier_id", sa.String(64), nullable=False),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
audit = sa.Table(
    "audit_log", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("supplier_id", sa.String(64), index=True),
    sa.Column("object", sa.String(200), nullable=False),
    sa.Column("diff", sa.Text, nullable=False),
)
assurances = sa.Table(
    "assurances", md,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("statement", sa.Text, nullable=False),
    sa.Column("by_user", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)
scenario_runs = sa.Table(
    "scenario_runs", md,
    sa.Column("scenario_id", sa.String(64), primary_key=True),
    sa.Column("base_run_id", sa.String(64), nullable=False),
    sa.Column("dag_run_id", sa.String(128), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("conf", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

APPEND_ONLY = ("submission_rows", "submission_quarantine", "audit_log")


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class AppendOnlyError(RuntimeError):
    """The database refused an UPDATE or DELETE on an append-only table."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def record_key(row: dict[str, Any]) -> str:
    return "|".join("" if row.get(k) is None else str(row[k]) for k in RECORD_KEY)


def _triggers(dialect: str) -> list[str]:
    out = []
    if dialect == "sqlite":
        for t in APPEND_ONLY:
            for op in ("UPDATE", "DELETE"):
                out.append(f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                           f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END")
    elif dialect == "postgresql":
        out.append("CREATE OR REPLACE FUNCTION co2plan_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql")  # %% for psycopg2
        for t in APPEND_ONLY:
            out.append(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
            out.append(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                       "FOR EACH ROW EXECUTE FUNCTION co2plan_append_only()")
    return out


#: tables with a supplier_id that supplier-bound sessions read under row-level security (PostgreSQL)
RLS_TABLES = ("submission_batches", "submission_rows", "submission_quarantine", "audit_log")
SUPPLIER_ROLE = "co2plan_supplier"


def _rls(dialect: str) -> list[str]:
    """PostgreSQL: a NOLOGIN role for supplier-bound reads that the application role may switch to, SELECT on
    the supplier tables only, and one policy per table: rows whose supplier_id is the transaction's
    ``co2plan.supplier_id`` (no setting: no rows). The owner (the application role) is not affected."""
    if dialect != "postgresql":
        return []
    out = [f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SUPPLIER_ROLE}') THEN "
           f"CREATE ROLE {SUPPLIER_ROLE} NOLOGIN NOBYPASSRLS; END IF; END $$",
           f"GRANT {SUPPLIER_ROLE} TO CURRENT_USER"]
    for t in RLS_TABLES:
        out += [f"GRANT SELECT ON {t} TO {SUPPLIER_ROLE}",
                f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
                f"DROP POLICY IF EXISTS {t}_own_supplier ON {t}",
                f"CREATE POLICY {t}_own_supplier ON {t} FOR SELECT TO {SUPPLIER_ROLE} "
                "USING (supplier_id = current_setting('co2plan.supplier_id', true))"]
    return out


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 300, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_con, _rec):  # pragma: no cover - driver hook
            dbapi_con.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=300000")  # writers queue (other processes) instead of failing
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(con):  # pragma: no cover - driver hook
            con.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Store:
    """All reads and writes of the web database. Thread-safe (one engine, short transactions)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer at a time: threads of this process queue here rather than on the file lock
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else _NoLock()

    def init(self) -> None:
        md.create_all(self.engine)
        self._check_schema()
        with self.engine.begin() as con:
            for stmt in _triggers(self.dialect) + _rls(self.dialect):
                con.exec_driver_sql(stmt)

    def _check_schema(self) -> None:
        """``create_all`` never alters an existing table: a database written by an older version of the app
        (e.g. submission rows before the ``supplier_submissions`` columns) would fail later, on a supplier's
        submission. Refuse at start instead, naming the table, the missing columns and the way out."""
        insp = sa.inspect(self.engine)
        stale = {}
        for table in md.sorted_tables:
            have = {c["name"] for c in insp.get_columns(table.name)}
            missing = [c.name for c in table.columns if c.name not in have]
            if missing:
                stale[table.name] = missing
        if stale:
            where = self.engine.url.render_as_string(hide_password=True)
            detail = "; ".join(f"{t}: {', '.join(cols)}" for t, cols in stale.items())
            raise RuntimeError(f"the web database {where} was written by an older co2plan (missing columns — "
                               f"{detail}); it is not migrated automatically: move it aside (its submissions stay "
                               f"in that file) or point CO2PLAN_WEB_DB at a new database, then start again")

    @contextmanager
    def supplier_session(self, supplier_id: str):
        """A connection bound to one supplier. PostgreSQL: a read-only transaction as ``co2plan_supplier``
        with ``co2plan.supplier_id`` set, so row-level security returns only that supplier's rows whatever
        the query says. SQLite (no row-level security): a plain connection; the callers' WHERE filters apply."""
        if self.dialect != "postgresql":
            with self.engine.connect() as con:
                yield con
            return
        with self.engine.begin() as con:
            con.exec_driver_sql("SET TRANSACTION READ ONLY")
            con.exec_driver_sql(f"SET LOCAL ROLE {SUPPLIER_ROLE}")
            con.execute(sa.text("SELECT set_config('co2plan.supplier_id', :s, true)"), {"s": str(supplier_id)})
            yield con

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, pw_hash: str, role: str, supplier_id: str | None = None) -> int:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
        with self.engine.begin() as con:
            uid = con.execute(users.insert().values(
                username=username, pw_hash=pw_hash, role=role, supplier_id=supplier_id, created_at=_now(),
                disabled=False)).inserted_primary_key[0]
            self._audit(con, None, "user.create", supplier_id, f"user:{username}", {"role": role})
        return int(uid)

    def user_by_name(self, username: str) -> dict | None:
        with self.engine.connect() as con:
            r = con.execute(users.select().where(users.c.username == username)).mappings().first()
        return dict(r) if r else None

    def user_by_id(self, uid: int) -> dict | None:
        with self.engine.connect() as con:
            r = con.execute(users.select().where(users.c.id == uid)).mappings().first()
        return dict(r) if r else None

    def set_pw_hash(self, uid: int, pw_hash: str) -> None:
        with self.engine.begin() as con:
            con.execute(users.update().where(users.c.id == uid).values(pw_hash=pw_hash))

    def list_users(self) -> list[dict]:
        with self.engine.connect() as con:
            return [dict(r) for r in con.execute(
                sa.select(users.c.id, users.c.username, users.c.role, users.c.supplier_id, users.c.disabled)
                .order_by(users.c.username)).mappings()]

    def has_admin(self) -> bool:
        with self.engine.connect() as con:
            return con.execute(sa.select(sa.func.count()).select_from(users)
                               .where(users.c.role == "admin")).scalar_one() > 0

    # ------------------------------------------------------------------ sessions (ids stored as sha256)
    def create_session(self, sid: str, uid: int, csrf: str) -> None:
        now = _now()
        with self.engine.begin() as con:
            con.execute(sessions.insert().values(id_hash=sha256(sid), user_id=uid, csrf=csrf, created_at=now,
                                                 last_seen=now))

    def get_session(self, sid: str, idle_s: int, absolute_s: int) -> dict | None:
        h, now = sha256(sid), _now()
        with self.engine.connect() as con:
            r = con.execute(sessions.select().where(sessions.c.id_hash == h)).mappings().first()
        if r is None:
            return None
        if (now - r["last_seen"]).total_seconds() > idle_s or (now - r["created_at"]).total_seconds() > absolute_s:
            self.delete_session(sid)
            return None
        if (now - r["last_seen"]).total_seconds() > 60:  # touch at most once a minute
            with self.engine.begin() as con:
                con.execute(sessions.update().where(sessions.c.id_hash == h).values(last_seen=now))
        return dict(r)

    def delete_session(self, sid: str) -> None:
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.id_hash == sha256(sid)))

    # ------------------------------------------------------------------ API tokens (stored as sha256)
    def add_token(self, token: str, uid: int, name: str, days: int = 90) -> int:
        now = _now()
        with self.engine.begin() as con:
            tid = con.execute(api_tokens.insert().values(
                token_hash=sha256(token), user_id=uid, name=name, created_at=now,
                expires_at=now + dt.timedelta(days=days))).inserted_primary_key[0]
            self._audit(con, uid, "token.create", None, f"token:{tid}", {"name": name})
        return int(tid)

    def user_for_token(self, token: str) -> dict | None:
        with self.engine.connect() as con:
            r = con.execute(sa.select(users).join(api_tokens, api_tokens.c.user_id == users.c.id).where(
                api_tokens.c.token_hash == sha256(token), api_tokens.c.revoked_at.is_(None),
                api_tokens.c.expires_at > _now())).mappings().first()
        return dict(r) if r else None

    # ------------------------------------------------------------------ login throttle
    def throttle_state(self, key: str, window_s: int) -> tuple[int, float]:
        """(failures in the current window, seconds until the window ends)."""
        with self.engine.connect() as con:
            r = con.execute(login_attempts.select().where(login_attempts.c.key == key)).mappings().first()
        if r is None:
            return 0, 0.0
        left = window_s - (_now() - r["window_start"]).total_seconds()
        return (int(r["failures"]), left) if left > 0 else (0, 0.0)

    def record_failure(self, key: str, window_s: int) -> None:
        now = _now()
        with self.engine.begin() as con:
            r = con.execute(login_attempts.select().where(login_attempts.c.key == key)).mappings().first()
            if r is None:
                con.execute(login_attempts.insert().values(key=key, window_start=now, failures=1))
            elif (now - r["window_start"]).total_seconds() > window_s:
                con.execute(login_attempts.update().where(login_attempts.c.key == key)
                            .values(window_start=now, failures=1))
            else:
                con.execute(login_attempts.update().where(login_attempts.c.key == key)
                            .values(failures=login_attempts.c.failures + 1))

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as con:
            con.execute(login_attempts.delete().where(login_attempts.c.key == key))

    # ------------------------------------------------------------------ audit
    def _audit(self, con, uid: int | None, action: str, supplier_id: str | None, obj: str, diff: Any) -> None:
        con.execute(audit.insert().values(at=_now(), user_id=uid, action=action, supplier_id=supplier_id,
                                          object=obj, diff=json.dumps(diff, default=str, sort_keys=True)))

    def audit_entries(self, supplier_id: str | None = None, limit: int = 200) -> list[dict]:
        """Audit trail; with a supplier id only that supplier's entries (the supplier view)."""
        q = audit.select().order_by(audit.c.id.desc()).limit(limit)
        if supplier_id is None:
            with self.engine.connect() as con:
                return [dict(r) for r in con.execute(q).mappings()]
        with self.supplier_session(supplier_id) as con:
            return [dict(r) for r in con.execute(q.where(audit.c.supplier_id == supplier_id)).mappings()]

    def log(self, uid: int | None, action: str, obj: str, diff: Any, supplier_id: str | None = None) -> None:
        with self.engine.begin() as con:
            self._audit(con, uid, action, supplier_id, obj, diff)

    # ------------------------------------------------------------------ submissions
    def find_batch(self, supplier_id: str, idempotency_key: str) -> dict | None:
        with self.supplier_session(supplier_id) as con:
            r = con.execute(batches.select().where(batches.c.supplier_id == supplier_id,
                                                   batches.c.idempotency_key == idempotency_key)).mappings().first()
        return dict(r) if r else None

    def store_batch(self, supplier_id: str, uid: int, channel: str, payload: bytes, good: list[dict],
                    bad: list[tuple[int, dict, str]], idempotency_key: str | None = None) -> tuple[dict, bool]:
        """One transaction: the batch, its rows (each a new version of its record key), the quarantined rows
        and the audit entries. ``good`` rows carry the contract fields plus source_row, status, reasons.
        Returns (batch, created); a retry with the same idempotency key returns the original batch."""
        if idempotency_key:
            prior = self.find_batch(supplier_id, idempotency_key)
            if prior:
                return prior, False
        bid, now = str(uuid.uuid4()), _now()
        try:
            with self._write_lock, self.engine.begin() as con:
                if self.dialect == "postgresql":
                    con.execute(sa.text("select pg_advisory_xact_lock(hashtext(:s))"), {"s": supplier_id})
                if idempotency_key:  # a concurrent retry may have landed while we waited for the lock
                    prior = con.execute(batches.select().where(
                        batches.c.supplier_id == supplier_id,
                        batches.c.idempotency_key == idempotency_key)).mappings().first()
                    if prior:
                        return dict(prior), False
                batch = {"id": bid, "supplier_id": supplier_id, "user_id": uid, "channel": channel,
                         "idempotency_key": idempotency_key, "payload_sha256": sha256(payload),
                         "rows_in": len(good) + len(bad), "rows_stored": len(good), "rows_quarantined": len(bad),
                         "created_at": now}
                con.execute(batches.insert().values(**batch))
                keys = sorted({record_key(r) for r in good})
                current = self._current_versions(con, supplier_id, keys)
                out, audits = [], []
                for r in good:
                    k = record_key(r)
                    prev = current.get(k)
                    version = (prev["version"] if prev else 0) + 1
                    values = {f: r[f] for f in SUBMISSION_FIELDS}
                    out.append({"batch_id": bid, "source_row": r["source_row"], "supplier_id": supplier_id,
                                "record_key": k, "version": version, **values, "status": r["status"],
                                "reasons": json.dumps(r.get("reasons", [])), "created_at": now,
                                "created_by": uid})
                    if prev:  # a correction: the audit names what changed against the previous version
                        diff = {f: [prev[f], values[f]] for f in SUBMISSION_FIELDS if prev[f] != values[f]}
                        audits.append({"at": now, "user_id": uid, "action": "submission.correction",
                                       "supplier_id": supplier_id, "object": f"record:{k}:v{version}",
                                       "diff": json.dumps(diff, default=str, sort_keys=True)})
                    current[k] = {**values, "version": version}
                if out:
                    self._insert_many(con, rows, out)
                if bad:
                    con.execute(quarantine.insert(), [
                        {"batch_id": bid, "supplier_id": supplier_id, "source_row": i,
                         "raw": json.dumps(raw, default=str), "reason": reason} for i, raw, reason in bad])
                audits.append({"at": now, "user_id": uid, "action": "submission.batch", "supplier_id": supplier_id,
                               "object": f"batch:{bid}", "diff": json.dumps(
                                   {"channel": channel, "rows_in": batch["rows_in"], "stored": len(good),
                                    "new_records": sum(1 for r in out if r["version"] == 1),
                                    "corrections": sum(1 for r in out if r["version"] > 1),
                                    "quarantined": len(bad)})})
                con.execute(audit.insert(), audits)
                return batch, True
        except sa.exc.IntegrityError:
            if idempotency_key:  # lost a race against the same key on PostgreSQL: return the winner
                prior = self.find_batch(supplier_id, idempotency_key)
                if prior:
                    return prior, False
            raise

    def _insert_many(self, con, table: sa.Table, records: list[dict]) -> None:
        """executemany straight to the driver (SQLAlchemy's per-row parameter processing costs more than the
        insert itself for 1,000-row batches)."""
        cols = list(records[0])
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
        con.exec_driver_sql(sql, [tuple(r[c] for c in cols) for r in records])

    def _current_versions(self, con, supplier_id: str, keys: Iterable[str]) -> dict[str, dict]:
        keys = list(keys)
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            sub = (sa.select(rows.c.record_key, sa.func.max(rows.c.version).label("v"))
                   .where(rows.c.supplier_id == supplier_id, rows.c.record_key.in_(chunk))
                   .group_by(rows.c.record_key).subquery())
            q = sa.select(rows).join(sub, sa.and_(rows.c.record_key == sub.c.record_key,
                                                  rows.c.version == sub.c.v)).where(
                rows.c.supplier_id == supplier_id)
            for r in con.execute(q).mappings():
                out[r["record_key"]] = dict(r)
        return out

    def batches_of(self, supplier_id: str, limit: int = 100) -> list[dict]:
        with self.supplier_session(supplier_id) as con:
            return [dict(r) for r in con.execute(
                batches.select().where(batches.c.supplier_id == supplier_id)
                .order_by(batches.c.created_at.desc(), batches.c.id).limit(limit)).mappings()]

    def batch(self, supplier_id: str, batch_id: str) -> dict | None:
        """A batch with its rows and quarantine; None when it is not this supplier's (callers answer 404)."""
        with self.supplier_session(supplier_id) as con:
            b = con.execute(batches.select().where(batches.c.id == batch_id,
                                                   batches.c.supplier_id == supplier_id)).mappings().first()
            if b is None:
                return None
            rs = [dict(r) for r in con.execute(rows.select().where(
                rows.c.batch_id == batch_id, rows.c.supplier_id == supplier_id).order_by(rows.c.source_row))
                .mappings()]
            qs = [dict(r) for r in con.execute(quarantine.select().where(
                quarantine.c.batch_id == batch_id, quarantine.c.supplier_id == supplier_id)
                .order_by(quarantine.c.source_row)).mappings()]
        return {**dict(b), "rows": rs, "quarantine": qs}

    def current_records(self, supplier_id: str) -> list[dict]:
        """The newest version of every record of one supplier."""
        with self.supplier_session(supplier_id) as con:
            sub = (sa.select(rows.c.record_key, sa.func.max(rows.c.version).label("v"))
                   .where(rows.c.supplier_id == supplier_id).group_by(rows.c.record_key).subquery())
            q = (sa.select(rows).join(sub, sa.and_(rows.c.record_key == sub.c.record_key, rows.c.version == sub.c.v))
                 .where(rows.c.supplier_id == supplier_id).order_by(rows.c.year, rows.c.commodity, rows.c.record_key))
            return [dict(r) for r in con.execute(q).mappings()]

    def record_versions(self, supplier_id: str, key: str) -> list[dict]:
        with self.supplier_session(supplier_id) as con:
            return [dict(r) for r in con.execute(rows.select().where(
                rows.c.supplier_id == supplier_id, rows.c.record_key == key).order_by(rows.c.version)).mappings()]

    def export_current(self, as_of: dt.datetime | None = None) -> list[dict]:
        """Every supplier's current version (accepted or flagged) as of a time: what the weekly pickup reads.
        Deterministic for a fixed ``as_of``."""
        cond = [rows.c.status.in_(("accepted", "flagged"))]
        if as_of is not None:
            cond.append(rows.c.created_at <= as_of)
        with self.engine.connect() as con:
            sub = (sa.select(rows.c.supplier_id, rows.c.record_key, sa.func.max(rows.c.version).label("v"))
                   .where(*cond).group_by(rows.c.supplier_id, rows.c.record_key).subquery())
            q = (sa.select(rows.c.supplier_id, rows.c.record_key, *[rows.c[f] for f in SUBMISSION_FIELDS],
                           rows.c.version, rows.c.status, rows.c.created_at)
                 .join(sub, sa.and_(rows.c.supplier_id == sub.c.supplier_id,
                                    rows.c.record_key == sub.c.record_key, rows.c.version == sub.c.v))
                 .order_by(rows.c.supplier_id, rows.c.record_key))
            return [dict(r) for r in con.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as con:
            return {t.name: con.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in (batches, rows, quarantine, audit)}

    # ------------------------------------------------------------------ assurance (public figures)
    def assure(self, run_id: str, statement: str, uid: int) -> None:
        with self.engine.begin() as con:
            con.execute(assurances.insert().values(run_id=run_id, statement=statement, by_user=uid, at=_now()))
            self._audit(con, uid, "run.assure", None, f"run:{run_id}", {"statement": statement})

    def assured_runs(self) -> dict[str, dict]:
        with self.engine.connect() as con:
            return {r["run_id"]: dict(r) for r in con.execute(assurances.select()).mappings()}

    # ------------------------------------------------------------------ scenario runs
    def add_scenario_run(self, scenario_id: str, base_run_id: str, dag_run_id: str, uid: int, conf: dict) -> None:
        now = _now()
        with self.engine.begin() as con:
            con.execute(scenario_runs.insert().values(
                scenario_id=scenario_id, base_run_id=base_run_id, dag_run_id=dag_run_id, user_id=uid,
                conf=json.dumps(conf, sort_keys=True), state="queued", message="", created_at=now, updated_at=now))
            self._audit(con, uid, "scenario.trigger", None, f"scenario:{scenario_id}", conf)

    def scenario_run(self, scenario_id: str) -> dict | None:
        with self.engine.connect() as con:
            r = con.execute(scenario_runs.select().where(scenario_runs.c.scenario_id == scenario_id)).mappings().first()
        return dict(r) if r else None

    def scenario_runs(self, limit: int = 50) -> list[dict]:
        with self.engine.connect() as con:
            return [dict(r) for r in con.execute(
                scenario_runs.select().order_by(scenario_runs.c.created_at.desc()).limit(limit)).mappings()]

    def set_scenario_state(self, scenario_id: str, state: str, message: str = "") -> None:
        with self.engine.begin() as con:
            con.execute(scenario_runs.update().where(scenario_runs.c.scenario_id == scenario_id)
                        .values(state=state, message=message[:2000], updated_at=_now()))
