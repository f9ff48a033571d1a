"""Page render time of the enterprise views on the ``large`` sample, measured as server time (the
``Server-Timing: app;dur=`` header the app sets), cold (first request after start) and warm (p95 of 20).

    .venv/bin/python benchmarks/bench_web_pages.py [--lake DIR --run RUN_ID] [--port 28760]

Also prints the start-up time (process start until the server answers) and the server's own warm-up breakdown
(templates, overview aggregates, panel reads; the app warms up before it listens).

Without --lake it builds the large sample's ledger once (extract -> validate -> account) in a temporary
lake. Baseline, in the same run: a bare pyarrow read + pandas group-by of the aggregates the overview shows
(summary by month x scope and by plant, ledger by carrier). Prints ratios; exits 1 when the warm overview
is over 1 s of server time.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["/enterprise", "/enterprise/emissions", "/enterprise/ledger?scope=scope1", "/api/v1/enterprise/overview"]


def free_port(start: int) -> int:
    for port in range(start, 28800):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 28800")


def build_large(root: str, run: str) -> None:
    from co2plan import pipeline as p

    t0 = time.perf_counter()
    p.extract_stage(run, "sample:large", root=root)
    p.validate_stage(run, root=root)
    p.account_stage(run, root=root)
    print(f"built the large ledger in {time.perf_counter() - t0:.0f} s", flush=True)


def baseline(root: str, run: str) -> float:
    import pandas as pd
    import pyarrow.parquet as pq

    from core import catalog

    t0 = time.perf_counter()
    s = pq.read_table(catalog.EMISSIONS_SUMMARY.uri(run, root=root).removeprefix("file://")).to_pandas()
    s.groupby(["month", "scope"])["co2e_t"].sum()
    s.groupby(["plant_id", "scope"])["co2e_t"].sum()
    led = pq.read_table(catalog.EMISSIONS_LEDGER.uri(run, root=root).removeprefix("file://"),
                        columns=["scope", "activity", "co2e_t"]).to_pandas()
    led.groupby(["scope", "activity"], observed=True)["co2e_t"].sum()
    del pd
    return time.perf_counter() - t0


def server_ms(r: httpx.Response) -> float:
    return float(r.headers["server-timing"].split("dur=")[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", default=None)
    ap.add_argument("--run", default="weekly-large")
    ap.add_argument("--port", type=int, default=28760)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="co2plan-bench-pages-"))
    lake = args.lake or str(tmp / "lake")
    if not args.lake:
        build_large(lake, args.run)
    from co2plan.web.security import hash_password
    from co2plan.web.store import Store

    db = f"sqlite:///{tmp / 'web.db'}"
    st = Store(db)
    st.init()
    st.add_user("bench-viewer", hash_password("bench password 0123"), "viewer")
    st.dispose()
    port = free_port(args.port)
    # httpx does not send Secure cookies over plain http to 127.0.0.1 (browsers do): plain cookies here
    env = {**os.environ, "CO2PLAN_WEB_DB": db, "LAKE": lake, "CO2PLAN_WEB_COOKIE_SECURE": "0"}
    log = open(tmp / "server.log", "w")
    t_start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "co2plan.cli", "web", "serve", "--port", str(port),
                             "--log-level", "warning", "--runner", "local"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    rc = 0
    try:
        c = httpx.Client(base_url=base, timeout=120)
        for _ in range(600):
            try:
                c.get("/")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"start-up (process start until the server answers): {time.perf_counter() - t_start:.1f} s")
        import re

        pre = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "bench-viewer", "password": "bench password 0123",
                                   "csrf_token": pre})
        assert r.status_code == 303, r.text[:300]
        first = c.get("/enterprise", params={"run": args.run})  # cold: nothing cached yet
        assert "Emissions overview" in first.text, first.text[:300]
        cold_overview = server_ms(first)
        base_s = baseline(lake, args.run)
        print(f"baseline (bare pyarrow read + group-bys of the overview's aggregates): {base_s * 1000:.0f} ms")
        for page in PAGES:
            url = page + ("&" if "?" in page else "?") + f"run={args.run}"
            t = [server_ms(c.get(url)) for _ in range(args.repeat)]
            p95 = float(np.percentile(t, 95))
            print(f"{page:35s} warm server time p50 {np.median(t):7.1f} ms  p95 {p95:7.1f} ms  "
                  f"(ratio to baseline {p95 / (base_s * 1000):.2f})")
            if page == "/enterprise" and p95 > 1000:
                rc = 1
        print(f"/enterprise cold (first request after start): {cold_overview:.0f} ms server time "
              f"(ratio to baseline {cold_overview / (base_s * 1000):.2f})")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    for line in (tmp / "server.log").read_text().splitlines():
        if "warm-up" in line:
            print("server:", line)
    print("OK: enterprise overview under 1 s server time" if rc == 0 else "FAILED: overview over 1 s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
