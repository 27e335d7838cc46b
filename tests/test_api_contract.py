"""The OpenAPI description is true: what `schemathesis run --checks all` does (every phase —
examples, coverage, fuzzing, stateful — and every check) finds nothing, for each way a server
can be keyed. Run in process through schemathesis's engine over the ASGI app, with the
project's schemathesis.toml, the one the CLI reads in the project root.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.run import PhaseName

ROOT = Path(__file__).resolve().parent.parent
DOCS = Path(__file__).parent / "data" / "robust" / "a"
WRITE_KEY, READ_KEY = "contract-write-key", "contract-read-key"
# Enough for every phase to reach every operation (~5 s a configuration on the shared 2 cores);
# the same cases each run unless KB_FUZZ_RANDOM=1 asks for fresh ones.
MAX_EXAMPLES = 15
DETERMINISTIC = not os.environ.get("KB_FUZZ_RANDOM")
# The rules schemathesis.toml lets a schema-valid request break (JSON Schema cannot state them):
# a refusal of a schema-valid request must name one of them.
UNSTATABLE_RULES = re.compile("is after year_to|must be greater than start|is outside document|as_of must be a date"
                              "|aspects: none given|(aspects|places): (at most \\d+ values|value .* is longer than)"
                              "|unsupported file type|larger than the upload limit|empty once directories")


def _contract_run(app, headers: dict[str, str]) -> tuple[list[str], set[str], list[str]]:
    """(failures and errors as readable lines, operations tested, refusals of schema-valid cases)."""
    settings = tomllib.loads((ROOT / "schemathesis.toml").read_text(encoding="utf-8"))
    settings["cache"] = {"enabled": False}  # the CLI replays failures it cached; a test starts afresh
    config = schemathesis.Config.from_dict(settings, base_dir=str(ROOT))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.config.checks.update(included_check_names=["all"])
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=DETERMINISTIC, database="none")
    if headers:
        schema.config.update(headers=headers)
    problems, tested, refusals = [], set(), []
    for event in from_schema(schema).execute():
        if isinstance(event, (events.NonFatalError, events.FatalError)):
            problems.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'exception', event)}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        rec = event.recorder
        if event.phase is not PhaseName.STATEFUL_TESTING and event.status is not Status.SKIP:
            tested.add(rec.label)
        for checks in rec.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    problems.append(f"{rec.label}: {check.name}: {failure.title}: {failure.message[:300]}")
        for case_id, node in rec.cases.items():
            meta, interaction = node.value.meta, rec.interactions.get(case_id)
            response = interaction.response if interaction else None
            if meta is None or response is None or not meta.generation.mode.is_positive:
                continue
            if response.status_code in (413, 415, 422):
                refusals.append(json.loads(response.content)["detail"])
    return problems, tested, refusals


@pytest.mark.parametrize("api_key, read_key", [("", ""), (WRITE_KEY, ""), (WRITE_KEY, READ_KEY)],
                         ids=["no keys (writes disabled)", "write key", "read and write keys"])
def test_schemathesis_checks_all_find_nothing(tmp_path, api_key, read_key):
    from api.app import create_app
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase(tmp_path / "index", embedder="fake", settings=Settings(api_key=api_key, read_key=read_key))
    assert not kb.ingest([DOCS]).failed
    app = create_app(kb)
    try:
        # the write key opens reads too, so one header serves every operation
        problems, tested, refusals = _contract_run(app, {"Authorization": f"Bearer {api_key}"} if api_key else {})
    finally:
        kb.close()
    assert problems == []
    spec = app.openapi()
    operations = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert tested == operations
    assert [d for d in refusals if not UNSTATABLE_RULES.search(d)] == []


def test_declared_security_follows_the_configured_keys(fake_kb):
    from api.app import create_app
    from kb.settings import Settings

    def secured(settings: Settings) -> set[str]:
        spec = create_app(fake_kb, settings).openapi()
        return {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items() if op.get("security")}

    writes = {"POST /api/documents", "DELETE /api/documents/{doc_id}"}
    assert secured(Settings(api_key="", read_key="")) == set()
    assert secured(Settings(api_key="w", read_key="")) == writes
    every = secured(Settings(api_key="w", read_key="r"))
    assert every >= writes | {"GET /api/search", "POST /api/ask", "POST /api/export"}
    assert "GET /healthz" not in every  # liveness stays open


def test_405_lists_every_method_of_the_path(fake_kb):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kb.settings import Settings

    client = TestClient(create_app(fake_kb, Settings(api_key="", read_key="")))
    for method, url, allow in [("TRACE", "/api/documents/x", "DELETE, GET"), ("PUT", "/api/documents", "GET, POST"),
                               ("PATCH", "/api/export", "POST"), ("DELETE", "/healthz", "GET")]:
        resp = client.request(method, url)
        assert (resp.status_code, resp.headers.get("allow")) == (405, allow), (method, url)
        assert resp.json()["error"] == "method_not_allowed"
