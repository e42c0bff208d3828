"""Property-based fuzzing of every operation in the app's OpenAPI schema with schemathesis.

No input may produce a server error (``not_a_server_error``), and every answer must be one
the schema declares: its status, its content type and its body's shape.
The store is SQLite in a temporary directory (bounded and fast), seeded with the scripted
migration of ``tests/scenario.py`` so that generated paths hit real ids some of the time;
the calls are made with an admin's and with an archivist's token, both registered through
``Custody.register_actor`` as the command line does.

Bounded for the suite (20 examples per operation and token, derandomised); for a deeper
local run set ``FUZZ_EXAMPLES`` (150 takes about three minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.scenario import PEOPLE, Story, run_story

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))


@dataclass(frozen=True)
class Seeded:
    """The fuzzed app, its store, the two tokens and the real ids to mix into paths."""

    app: FastAPI
    runtime: Runtime
    tokens: dict[str, str]
    real: dict[str, list[str]]


def real_ids(story: Story, rt: Runtime) -> dict[str, list[str]]:
    requests = [r["id"] for r in rt.queries.views.all("requests")]
    return {
        "record_id": [str(r) for r in story.records.values()] + [str(story.general)],
        "copy_id": [str(c) for c in (*story.archive_copies.values(),
                                     *story.school_copies.values())],
        "request_id": requests,
        "certificate_id": [str(c) for c in story.certificates],
        "actor_id": [str(story.staff.teacher_id)],
        "personnummer": [p for p, _, _ in PEOPLE],
        "school_id": ["holmes", "kvistberg", "fryken"],
        "seq": ["1", "2", "10"],
        "year": ["2018"],
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    rt = bootstrap(Settings(data_dir=data_dir))
    story = run_story(rt)
    system = Principal.system()
    _, admin = rt.custody.register_actor(system, "Fuzz Admin", "admin", None)
    _, archivist = rt.custody.register_actor(system, "Fuzz Arkivarie", "archivist", None)
    rt.queries.fresh()
    yield Seeded(create_app(runtime=rt), rt, {"admin": admin, "archivist": archivist},
                 real_ids(story, rt))
    rt.close()


def operation_labels() -> list[str]:
    """Every operation the app publishes, read from its OpenAPI document (no store needed)."""
    document = create_app(Settings(data_dir=Path("unused"))).openapi()
    return [f"{method.upper()} {path}" for path, methods in document["paths"].items()
            for method in methods]


@pytest.fixture(scope="module")
def api_schema(seeded: Seeded) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", seeded.app)


def cases(operation: Any, real: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Valid and invalid cases; half of them with every path or query parameter we know real
    values for (and a body's ``record_id``) set to one of them, so that calls reach the
    records and not only 404."""
    generated = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))
    in_path = {p.name for p in operation.path_parameters if real.get(p.name)}
    in_query = {p.name for p in operation.query if real.get(p.name)}
    names = sorted(in_path | in_query | ({"record_id"} & set(real)))
    chosen = st.fixed_dictionaries({name: st.sampled_from(real[name]) for name in names})

    def with_real(pair: tuple[Any, dict[str, str]]) -> Any:
        case, values = pair
        if in_path:
            case.path_parameters = {**(case.path_parameters or {}),
                                    **{k: values[k] for k in in_path}}
        if in_query:
            case.query = {**(case.query or {}), **{k: values[k] for k in in_query}}
        if isinstance(case.body, dict) and "record_id" in case.body and "record_id" in values:
            case.body = {**case.body, "record_id": values["record_id"]}
        return case

    return st.one_of(generated, st.tuples(generated, chosen).map(with_real))


FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


class TestEveryOperationUnderFuzzing:
    @pytest.mark.parametrize("label", operation_labels())
    @pytest.mark.parametrize("role", ["admin", "archivist"])
    def test_no_input_produces_a_server_error(self, api_schema: Any, seeded: Seeded,
                                              role: str, label: str) -> None:
        operation = api_schema.find_operation_by_label(label)
        assert operation is not None, f"{label} is not in the schema"
        headers = {"Authorization": f"Bearer {seeded.tokens[role]}"}

        @FUZZ
        @given(case=cases(operation, seeded.real))
        def no_server_error(case: Any) -> None:
            # Our token, not a generated Authorization header: the calls should get past
            # authentication to the code that parses and acts.
            case.headers = {**(case.headers or {}), **headers}
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance,
                                           status_code_conformance, content_type_conformance])

        no_server_error()
