"""Reading dpbench results files: locate the schema, parse, validate, and fail with one clear error.

The results file is the contract between the C++ side and these scripts. Nothing downstream of this
module sees a document that did not validate against the JSON Schema. The schema's one copy in the
repository is this package's data (schema/dpbench-results.schema.json; CMake points the C++ tests at
it), so an installed package validates exactly what the checkout it came from writes.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Iterable, cast

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

SCHEMA_ENV = "DPBENCH_SCHEMA"
SCHEMA_RESOURCE: tuple[str, ...] = ("schema", "dpbench-results.schema.json")


class ResultsFileError(Exception):
    """A results file (or the schema) could not be used. The message names the file and the first problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def packaged_schema() -> Traversable:
    """The schema shipped with this package, found with importlib.resources (works from a wheel too)."""
    return resources.files(__package__).joinpath(*SCHEMA_RESOURCE)


def _schema_override() -> str | None:
    return os.environ.get(SCHEMA_ENV) or None


def _schema_file(override: str | None) -> Traversable:
    return Path(override) if override else packaged_schema()


def schema_path() -> Traversable:
    """The schema file: $DPBENCH_SCHEMA if set (to try a newer format), else the packaged one."""
    return _schema_file(_schema_override())


@functools.lru_cache(maxsize=4)
def _validator_for(override: str | None) -> Validator:
    schema_file = _schema_file(override)
    path = str(schema_file)
    try:
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsFileError(path, f"schema file not found (set {SCHEMA_ENV} to its location)") from None
    except (OSError, ValueError) as e:
        raise ResultsFileError(path, f"cannot read the schema: {e}") from None
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ResultsFileError(path, f"the schema itself is invalid: {e.message}") from None
    return cls(schema)


def validator() -> Validator:
    """A validator for the current schema (cached per schema file)."""
    return _validator_for(_schema_override())


def json_pointer(parts: Iterable[Any]) -> str:
    """RFC 6901 pointer for a path inside the document ('/' is the root)."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped) if escaped else "/"


def first_problem(doc: Any) -> str | None:
    """The most relevant validation error as 'at /path: message', or None when the document is valid."""
    error = best_match(validator().iter_errors(doc))
    if error is None:
        return None
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"does not match the dpbench results schema: at {json_pointer(error.absolute_path)}: {message}"


@dataclass(frozen=True)
class ResultsFile:
    """One validated results document and where it came from."""

    path: Path
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def command(self) -> str:
        return str(self.doc["command"])

    @property
    def system(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.doc["system"])

    @property
    def invocation(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.doc["invocation"])

    @property
    def dpbench(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.doc["dpbench"])

    @property
    def points(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self.doc["points"])

    @property
    def axis_order(self) -> tuple[str, ...] | None:
        """The command's axes in the order dpbench declares them (the file's axis_order).

        None for files written before dpbench recorded it; records.py then takes each point's order
        from its id.
        """
        order = self.doc.get("axis_order")
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            return None
        return tuple(order)

    @property
    def hostname(self) -> str:
        return str(self.system["host"]["hostname"])

    @property
    def first_device_name(self) -> str | None:
        devices = self.system.get("devices") or []
        return str(devices[0]["name"]) if devices else None

    @property
    def machine(self) -> str:
        """Machine label: host name plus the first device's name, e.g. 'node7 / NVIDIA H100 80GB HBM3'."""
        device = self.first_device_name
        return f"{self.hostname} / {device}" if device else self.hostname

    @property
    def revision(self) -> str:
        d = self.dpbench
        return f"dpbench {d.get('version', '?')} ({d.get('git_revision', '?')})"


def load_results(path: str | os.PathLike[str]) -> ResultsFile:
    """Parse and validate one results file; raise ResultsFileError naming the file and the first problem."""
    p = Path(path)
    try:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ResultsFileError(p, "no such file") from None
    except IsADirectoryError:
        raise ResultsFileError(p, "is a directory, not a results file") from None
    except json.JSONDecodeError as e:
        raise ResultsFileError(p, f"not valid JSON: line {e.lineno} column {e.colno}: {e.msg}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsFileError(p, f"cannot read: {e}") from None
    problem = first_problem(doc)
    if problem is not None:
        raise ResultsFileError(p, problem)
    return ResultsFile(path=p, doc=doc)


def load_many(paths: Iterable[str | os.PathLike[str]]) -> list[ResultsFile]:
    """Load several files in order; the first bad one raises."""
    return [load_results(p) for p in paths]
