"""``co2plan web ...``: serve the web app (uvicorn) and manage its users.

    co2plan web serve [--host 127.0.0.1] [--port 8000] [--db URL] [--workers N] [--runner airflow|local]
    co2plan web create-user NAME --role supplier|viewer|planner|admin [--supplier-id ID]   (password on stdin)
    co2plan web create-token NAME [--days 90]                                              (prints it once)
    co2plan web seed-demo     one supplier user per supplier of the newest validated run, a viewer and a planner

The first ``serve`` on an empty database creates the user ``admin`` and prints its one-time password.
A host other than loopback needs ``--allow-remote`` (put TLS and the identity provider in front: docs/WEB.md).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "app_factory"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def app_factory():
    from co2plan.web.app import create_app

    app = create_app()
    _warm_up(app)  # before uvicorn listens: the first request after a start finds everything warm
    return app


def _warm_up(app) -> dict[str, float]:
    """Compile every template and aggregate the newest run's overview (ledger by carrier, monthly drill-down)
    and the planner panels' reads, before the server accepts requests (uvicorn calls the factory and then
    listens), so the first planner after a start does not wait for the ledger read. Prints the seconds spent."""
    import time

    from co2plan.web import data
    from co2plan.web.security import Principal

    system = Principal(None, "warm-up", "viewer", None, None, "system")
    lake, settings = app.state.lake, app.state.settings
    spent: dict[str, float] = {}
    steps = [("templates", lambda: [app.state.templates.get_template(n) for n in app.state.templates.env.list_templates()]),
             ("overview", lambda: data.enterprise_overview(system, lake, settings)),
             ("emissions", lambda: data.emissions_breakdown(system, lake, None)),
             ("levers", lambda: data.levers_summary(system, lake)),
             ("forecast", lambda: data.forecast_hierarchy(system, lake)),
             ("supply", lambda: data.supply_overview(system, lake))]
    for name, fn in steps:
        t0 = time.perf_counter()
        try:
            fn()
        except Exception:  # noqa: BLE001 - an empty lake or a half-written run: the pages say so themselves
            pass
        spent[name] = round(time.perf_counter() - t0, 3)
    print(f"[co2plan web] warm-up {sum(spent.values()):.1f} s: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()), file=sys.stderr, flush=True)
    return spent


def _store():
    from co2plan.web.settings import WebSettings
    from co2plan.web.store import Store

    s = Store(WebSettings().db_url)
    s.init()
    return s


def _ensure_admin(store) -> None:
    from co2plan.web.app import create_user
    from co2plan.web.security import new_secret

    if not store.has_admin():
        pw = new_secret(18)
        create_user(store, "admin", pw, "admin")
        print(f"[co2plan web] created user 'admin' with the one-time password: {pw}\n"
              "[co2plan web] (shown once; change it by creating another admin)", flush=True)


def _password(args) -> str:
    if getattr(args, "password_file", None):
        return open(args.password_file, encoding="utf-8").read().strip()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("password (12+ characters): ")
    return sys.stdin.readline().strip()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="co2plan web", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--db", default=None, help="database URL (default sqlite:///<project>/webdata/web.db)")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--runner", choices=["airflow", "local"], default=None,
                   help="how scenarios run (default airflow: Airflow's REST API)")
    s.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    s.add_argument("--log-level", default="info")
    sub.add_parser("init-db", help="create the tables")
    u = sub.add_parser("create-user", help="add a user (password on stdin or --password-file)")
    u.add_argument("username")
    u.add_argument("--role", required=True, choices=["supplier", "viewer", "planner", "admin"])
    u.add_argument("--supplier-id", default=None)
    u.add_argument("--password-file", default=None)
    t = sub.add_parser("create-token", help="a new API token for a user, printed once")
    t.add_argument("username")
    t.add_argument("--name", default="api")
    t.add_argument("--days", type=int, default=90)
    sub.add_parser("seed-demo", help="demo users for the suppliers of the newest validated run")
    args = p.parse_args(argv)

    if args.cmd == "serve":
        if args.host not in LOOPBACK and not args.allow_remote:
            print(f"refusing to listen on {args.host}: pass --allow-remote (and put TLS in front)", file=sys.stderr)
            return 2
        if args.db:
            os.environ["CO2PLAN_WEB_DB"] = args.db
        if args.runner:
            os.environ["CO2PLAN_WEB_SCENARIO_RUNNER"] = args.runner
        _ensure_admin(_store())
        import uvicorn

        uvicorn.run("co2plan.web.server:app_factory", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, server_header=False, proxy_headers=False)
        return 0
    store = _store()
    if args.cmd == "init-db":
        print(f"[co2plan web] database ready: {store.engine.url.render_as_string(hide_password=True)}")
        return 0
    if args.cmd == "create-user":
        from co2plan.web.app import create_user

        try:
            uid = create_user(store, args.username, _password(args), args.role, args.supplier_id)
        except Exception as e:  # noqa: BLE001 - the message names the rule (short password, taken name, binding)
            print(f"user not created: {str(e).splitlines()[0]}", file=sys.stderr)
            return 2
        print(f"[co2plan web] user {args.username} ({args.role}) created, id {uid}")
        return 0
    if args.cmd == "create-token":
        from co2plan.web.security import new_secret

        user = store.user_by_name(args.username)
        if user is None:
            print(f"no user {args.username}", file=sys.stderr)
            return 2
        tok = new_secret(32)
        store.add_token(tok, user["id"], args.name, args.days)
        print(tok)
        return 0
    if args.cmd == "seed-demo":
        from co2plan.web.app import create_user
        from co2plan.web.data import Lake
        from co2plan.web.security import new_secret
        from core import catalog

        lake = Lake()
        ds = catalog.VALIDATED["supplier_submissions"]
        runs = [r for r in lake.runs() if lake.exists(ds, r)]
        # a login for the first few suppliers with submissions (the demo has hundreds)
        sups = sorted(set(lake.read(ds, runs[-1], columns=["supplier_id"])["supplier_id"]))[:8] if runs else []
        made = [(f"{sid.lower()}", "supplier", sid) for sid in sups] + [("viewer", "viewer", None),
                                                                        ("planner", "planner", None)]
        for name, role, sid in made:
            if store.user_by_name(name):
                continue
            pw = new_secret(12)
            create_user(store, name, pw, role, sid)
            print(f"{name}\t{role}\t{sid or ''}\t{pw}")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
