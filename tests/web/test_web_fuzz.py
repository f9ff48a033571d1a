"""The JSON API fuzzed from its own OpenAPI schema with schemathesis (in-process ASGI), as an anonymous
caller, a supplier and a planner (Bearer tokens): no 5xx, documented status codes and content types.
The scenario runner is a local one that never solves (the fuzzer must not start real solves)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance


class _NoSolveRunner:
    """Accepts triggers and reports them queued; what the fuzzer needs from an orchestrator."""

    def trigger(self, scenario_id: str, conf: dict, note: str) -> str:
        return f"scenario-{scenario_id}"

    def state(self, run_id: str) -> str:
        return "queued"


@pytest.fixture
def web_schema(settings, store):
    from co2plan.web.app import create_app

    app = create_app(settings, store, runner=_NoSolveRunner())
    app.state.fuzz_tokens = {}
    from co2plan.web.security import new_secret

    for name in ("supa", "planner"):
        tok = new_secret()
        store.add_token(tok, store.user_by_name(name)["id"], "fuzz")
        app.state.fuzz_tokens[name] = tok
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_api_has_no_server_errors(web_schema):
    from hypothesis import given

    tokens = web_schema.app.state.fuzz_tokens
    ops = [r.ok() for r in web_schema.get_all_operations()]
    assert len(ops) >= 14
    for op in ops:
        @given(case=op.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            for who in ("anonymous", "supa", "planner"):  # each generated request as each kind of caller
                headers = {} if who == "anonymous" else {"Authorization": f"Bearer {tokens[who]}"}
                case.call_and_validate(headers=headers, base_url="https://testserver",
                                       checks=[not_a_server_error, status_code_conformance,
                                               content_type_conformance])

        run()
