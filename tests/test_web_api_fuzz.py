"""Schema-driven fuzzing of every API endpoint (schemathesis against the OpenAPI description):
whatever the parameters, the API answers with a 2xx or a 4xx in its error shape, never a 5xx.
Run with and without an analyst token."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from fourhour.warehouse import open_warehouse
from fourhour.web.app import create_app
from fourhour.web.config import WebConfig
from fourhour.web.tokens import create_token
from tests.web_world import app_for

pytestmark = pytest.mark.slow
EXAMPLES = 25  # per endpoint and mode: enough to cross every parameter's branches, quickly


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, web_world):
    path, rules = web_world(tmp_path_factory.mktemp("fuzz"))
    with open_warehouse(path) as wh:
        _, token = create_token(wh, "fuzzer", "analyst")
    app = app_for(path, rules, capacity_replications=1)
    return app, token


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    app, _ = fuzzed
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI description (schemathesis's pytest
    plugin does not yet run under pytest 9, so the operations are parametrised here and each
    one's cases drawn from its Hypothesis strategy)."""
    app = create_app(WebConfig(Path("unused.duckdb"), prewarm=False))
    try:
        return [
            (method.upper(), path)
            for path, methods in app.openapi()["paths"].items()
            for method in methods
        ]
    finally:
        app.state.site.close()


OPERATIONS = _operations()


def _error_shape(response) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert body["error"]["status"] == response.status_code
        assert body["error"]["message"]
        assert "Traceback" not in response.text


def _fuzz(api_schema, method: str, path: str, examples: int, headers: dict) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case) -> None:
        response = case.call_and_validate(checks=[not_a_server_error], headers=headers)
        _error_shape(response)
        if headers:
            assert response.status_code != 401

    run()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_5xx_without_a_token(api_schema, method: str, path: str) -> None:
    _fuzz(api_schema, method, path, EXAMPLES, {})


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_5xx_with_an_analyst_token(api_schema, fuzzed, method: str, path: str) -> None:
    _, token = fuzzed
    _fuzz(api_schema, method, path, EXAMPLES // 2, {"Authorization": f"Bearer {token}"})


def test_every_endpoint_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 15
    assert ("GET", "/api/v1/patients/measures") in OPERATIONS
