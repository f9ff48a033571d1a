"""Load: concurrent supplier submissions through the real web server, then a check that none was lost or
duplicated and that versions stay contiguous.

    .venv/bin/python benchmarks/bench_web_submissions.py [--clients 200] [--rows 1000] [--suppliers 50]
        [--db sqlite:///... | postgresql+psycopg2://postgres@127.0.0.1:5432/co2plan_17] [--port 28750]

Starts ``co2plan web serve`` on 127.0.0.1 with a fresh database and one API token per supplier, fires
``clients`` POSTs of ``rows`` JSON rows each at once (httpx.AsyncClient), 5 % of them sent twice with the
same Idempotency-Key (a client retry), and suppliers send several batches over the same keys (corrections,
so versions 1..n). Prints p50/p95/p99/max latency and rows/s, and the same rows inserted by a bare
``executemany`` into the same kind of database as the baseline (ratio = server rows/s / bare rows/s).
Exits 1 when a row is lost or duplicated or a version sequence has a gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from co2plan.web.security import hash_password, new_secret  # noqa: E402
from co2plan.web.store import Store  # noqa: E402


def free_port(start: int) -> int:
    for port in range(start, 28800):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 28800")


def make_rows(n: int, batch: int) -> list[dict]:
    # 10 plants x 11 commodities x years: unique keys within a batch; the same keys in every batch of a supplier
    commodities = ("battery_pack", "cell", "cathode", "lithium", "nickel", "cobalt", "steel", "aluminium", "casting",
                   "electronics", "parts")
    return [{"plant_id": f"P{i % 10:02d}", "commodity": commodities[i // 10 % 11], "year": 1990 + i // 110 % 110,
             "activity_qty": 100.0, "activity_unit": "t", "tco2e": float(1000 + batch + i % 7),
             "method": "supplier_specific", "dq_tier": 1} for i in range(n)]


def fresh_db(url: str | None, tmp: Path) -> str:
    if url is None:
        return f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        base, _, name = url.rpartition("/")
        eng = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with eng.connect() as con:
            con.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            con.exec_driver_sql(f'CREATE DATABASE "{name}"')
        eng.dispose()
    return url


def bare_baseline(url: str, rows: list[dict], batches: int) -> float:
    """rows/s of a plain executemany into a table with the same columns (no checks, no versions)."""
    eng = sa.create_engine(url)
    md = sa.MetaData()
    t = sa.Table("bare_rows", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("batch", sa.Integer),
                 sa.Column("source_row", sa.Integer), sa.Column("plant_id", sa.String(64)),
                 sa.Column("year", sa.Integer), sa.Column("commodity", sa.String(64)),
                 sa.Column("activity_qty", sa.Float), sa.Column("activity_unit", sa.String(16)),
                 sa.Column("tco2e", sa.Float), sa.Column("method", sa.String(64)), sa.Column("dq_tier", sa.Integer))
    md.drop_all(eng)
    md.create_all(eng)
    t0 = time.perf_counter()
    for b in range(batches):
        with eng.begin() as con:
            con.execute(t.insert(), [{**r, "batch": b, "source_row": i + 1} for i, r in enumerate(rows)])
    dt = time.perf_counter() - t0
    md.drop_all(eng)
    eng.dispose()
    return batches * len(rows) / dt


async def fire(base: str, jobs: list[tuple[str, str, list[dict]]], clients: int) -> list[tuple[float, int, str]]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=600) as c:
        async def one(tok: str, key: str, rows: list[dict]):
            t0 = time.perf_counter()
            r = await c.post("/api/v1/supplier/submissions", content=json.dumps({"rows": rows}),
                             headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": key,
                                      "content-type": "application/json"})
            return time.perf_counter() - t0, r.status_code, r.json().get("id", r.text[:200])

        return await asyncio.gather(*(one(*j) for j in jobs))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--suppliers", type=int, default=50)
    ap.add_argument("--dup-share", type=float, default=0.05)
    ap.add_argument("--db", default=None)
    ap.add_argument("--port", type=int, default=28750)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="co2plan-bench-web-"))
    url = fresh_db(args.db, tmp)
    store = Store(url)
    store.init()
    pw = hash_password("bench password 0123")
    tokens = {}
    for s in range(args.suppliers):
        sid = f"SUP_BENCH_{s:03d}"
        uid = store.add_user(f"bench{s}", pw, "supplier", sid)
        tokens[sid] = new_secret()
        store.add_token(tokens[sid], uid, "bench")
    port = free_port(args.port)
    env = {**os.environ, "CO2PLAN_WEB_DB": url, "LAKE": str(tmp / "lake")}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "co2plan.cli", "web", "serve", "--port", str(port),
                             "--log-level", "warning", "--runner", "local"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        sids = sorted(tokens)
        jobs = []
        for b in range(args.clients):
            sid = sids[b % len(sids)]
            jobs.append((tokens[sid], f"batch-{b}", make_rows(args.rows, b)))
        rng = np.random.default_rng(0)
        dups = [jobs[i] for i in rng.choice(len(jobs), int(len(jobs) * args.dup_share), replace=False)]
        t0 = time.perf_counter()
        res = asyncio.run(fire(base, jobs + dups, args.clients + len(dups)))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    lat = np.array([r[0] for r in res])
    codes = sorted({r[1] for r in res})
    counts = store.counts()
    ok = True
    with store.engine.connect() as con:
        dup = con.execute(sa.text("select count(*) from (select batch_id, source_row from submission_rows "
                                  "group by batch_id, source_row having count(*) > 1) d")).scalar_one()
        gaps = con.execute(sa.text("select count(*) from (select supplier_id, record_key, max(version) m, "
                                   "count(*) c, min(version) lo from submission_rows group by supplier_id, "
                                   "record_key) g where m != c or lo != 1")).scalar_one()
    expect_rows = args.clients * args.rows
    if counts["submission_batches"] != args.clients or counts["submission_rows"] != expect_rows or dup or gaps:
        ok = False
    distinct_ids = len({r[2] for r in res})
    bare = bare_baseline(url, make_rows(args.rows, 0), min(args.clients, 50))
    served = expect_rows / wall
    print(f"db {store.dialect}: {len(res)} requests ({len(dups)} retries with the same Idempotency-Key), "
          f"status codes {codes}")
    print(f"batches {counts['submission_batches']} (expected {args.clients}), rows {counts['submission_rows']} "
          f"(expected {expect_rows}), distinct batch ids answered {distinct_ids}, duplicate rows {dup}, "
          f"version gaps {gaps}")
    print(f"latency s: p50 {np.percentile(lat, 50):.2f}  p95 {np.percentile(lat, 95):.2f}  "
          f"p99 {np.percentile(lat, 99):.2f}  max {lat.max():.2f}; wall {wall:.1f} s")
    print(f"throughput: server {served:,.0f} rows/s (door checks + versions + audit) vs bare executemany "
          f"{bare:,.0f} rows/s: ratio {served / bare:.2f}")
    print("OK: nothing lost or duplicated" if ok else "FAILED: lost, duplicated or gapped rows")
    store.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
