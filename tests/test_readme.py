"""The README is true: its queries, run on the demo store, answer what it shows.

README.md presents a query as a ```graphql block and its answer as the ```json
block right after it (variables, when there are any, on the one line between
them: ``with variables `{"after": "…"}`:``). The JSON is the answer from the
level the README chooses down: the whole ``data``, or the object under the
chain of single-field selections (``model { run { split { metrics { … }``),
which is where this test looks for it (``locate``). A ```sh block's
``curl … -d '{"query": …}'`` followed by a ``# {"data": …}`` line is checked
the same way against the whole body (queries only: the README's mutations
belong to another store), and ``$ evalql report …`` examples against what
the command prints.

How an answer is compared:

- ints, strings, booleans, nulls and the structure (keys, list lengths) exactly;
- a float with n decimals in the README equals the answer rounded to n
  decimals (``2.88e-156``: n significant digits of the mantissa), so the
  README may round as long as the digits it prints are right;
- the fields in ``VARYING`` are not compared (they must still be there);
- ``…`` is the README's mark for an answer abbreviated on purpose: inside an
  object it stands for members not shown (those shown are compared), inside a
  list for elements not shown (those before it are the answer's first ones,
  those after it its last ones);
- ``<!-- not checked: REASON -->`` on the line just before a ```graphql
  block skips it, with that reason.

The demo store is built once for the module (``storage.demo.build_demo``,
seeded, so every build holds the same rows; a fresh store's splits are all at
version 1, so the rows' cursors are the same too).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.cli import main
from evalql.storage.demo import build_demo

README = Path(__file__).resolve().parent.parent / "README.md"

# Fields whose value differs from one build of the demo store to the next,
# by name, wherever they are in an answer.
VARYING = {
    "createdAt": "when `evalql demo` ingested the run: the time of the build",
}

ELLIPSIS = "…"
_NOT_CHECKED = re.compile(r"<!--\s*not checked:\s*(.*?)\s*-->")
_VARIABLES = re.compile(r"variables\s*`(\{.*\})`")


class ReadmeFloat(float):
    """A float of the README that remembers how it was written (its precision)."""

    text: str

    def __new__(cls, text: str) -> ReadmeFloat:
        value = super().__new__(cls, text)
        value.text = text
        return value


@dataclass
class Example:
    """One checkable example of the README."""

    kind: str  # "graphql", "curl" or "report"
    name: str  # the test id: heading, lead-in and line
    line: int
    query: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    skip: str | None = None
    command: list[str] = field(default_factory=list)
    output: str = ""


# --- Reading the README ----------------------------------------------------


def _slug(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text.lower())
    return "-".join(words[:6])


@dataclass
class _Block:
    lang: str
    start: int  # index of the opening fence
    end: int  # index of the closing fence
    text: str


def _blocks(lines: list[str]) -> list[_Block]:
    blocks, i = [], 0
    while i < len(lines):
        match = re.match(r"^```(\w*)\s*$", lines[i])
        if match:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            blocks.append(_Block(match.group(1), i, j, "\n".join(lines[i + 1 : j])))
            i = j
        i += 1
    return blocks


def _names(lines: list[str]) -> list[str]:
    """For each line, a name for what it belongs to: the nearest heading and
    the bold lead-in (``**What is stored?**``) of the paragraph, if any."""
    names, heading, lead, fenced, previous = [], "", "", False, ""
    for line in lines:
        fenced ^= line.startswith("```")
        if line.startswith("#") and not fenced:
            heading, lead = _slug(line.lstrip("#")), ""
        elif line.strip() and not fenced and (not previous.strip() or previous.startswith("```")):
            match = re.match(r"^\*\*(.+?)\*\*", line)  # a paragraph starts
            lead = _slug(match.group(1)) if match else ""
        names.append(f"{heading}/{lead}" if lead else heading)
        previous = line
    return names


def load_json(text: str) -> Any:
    """Parse README JSON: floats keep their text, a bare ``…`` becomes the
    ELLIPSIS string in a list and an ``"…": null`` member in an object (its
    comma may be left out)."""
    out, stack, in_string, escaped = [], [], False, False
    for i, ch in enumerate(text):
        if in_string:
            escaped = not escaped and ch == "\\"
            in_string = escaped or ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}":
            stack.pop()
        elif ch == ELLIPSIS:
            ch = f'"{ELLIPSIS}": null' if stack and stack[-1] == "{" else f'"{ELLIPSIS}"'
            # A "…" on a line of its own in a list needs no comma.
            if text[i + 1 :].lstrip()[:1] not in (",", "]", "}"):
                ch += ","
        out.append(ch)
    return json.loads("".join(out), parse_float=ReadmeFloat)


def _graphql_examples(lines: list[str], names: list[str]) -> Iterator[Example]:
    blocks = _blocks(lines)
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block.lang != "graphql":
            continue
        between = [line for line in lines[block.end + 1 : after.start] if line.strip()] if after else []
        if after is None or after.lang != "json" or len(between) > 1:
            continue  # a query without an answer shown
        variables = {}
        if between:
            match = _VARIABLES.search(between[0])
            if match is None:
                continue  # prose, not variables: the JSON answers something else
            variables = json.loads(match.group(1))
        marker = _NOT_CHECKED.search(lines[block.start - 1]) if block.start else None
        yield Example(
            "graphql", f"{names[block.start]}@L{block.start + 1}", block.start + 1,
            query=block.text, variables=variables, expected=load_json(after.text),
            skip=marker.group(1) if marker else None,
        )


def _curl_examples(lines: list[str], names: list[str]) -> Iterator[Example]:
    for block in _blocks(lines):
        if block.lang != "sh":
            continue
        # Join continuation lines, then pair each curl with the `# ` answer after it.
        commands = block.text.replace("\\\n", " ").splitlines()
        for command, answer in zip(commands, [*commands[1:], ""], strict=True):
            body = re.search(r"-d '(\{.*\})'", command)
            if not (command.lstrip().startswith("curl") and body and answer.startswith("# {")):
                continue
            payload = json.loads(body.group(1))
            if payload["query"].lstrip().startswith("mutation"):
                continue  # a write to a store of the reader's, not the demo's
            yield Example(
                "curl", f"{names[block.start]}/curl@L{block.start + 1}", block.start + 1,
                query=payload["query"], variables=payload.get("variables") or {},
                expected=load_json(answer[2:]),
            )


def _report_examples(lines: list[str], names: list[str]) -> Iterator[Example]:
    for i, line in enumerate(lines):
        match = re.match(r"^(\s+)\$ evalql (report .*)$", line)
        if not match:
            continue
        indent, output = len(match.group(1)), []
        for following in lines[i + 1 :]:
            if following.strip() and (
                len(following) - len(following.lstrip()) < indent
                or following.lstrip().startswith("$ ")
            ):
                break
            output.append(following[indent:].rstrip())
        while output and not output[-1]:
            output.pop()
        yield Example(
            "report", f"{names[i]}/report@L{i + 1}", i + 1,
            command=shlex.split(match.group(2)), output="\n".join(output),
        )


def examples() -> list[Example]:
    lines = README.read_text(encoding="utf-8").splitlines()
    names = _names(lines)
    return [
        *_graphql_examples(lines, names),
        *_curl_examples(lines, names),
        *_report_examples(lines, names),
    ]


EXAMPLES = examples()


# --- Comparing ---------------------------------------------------------------


def locate(actual: Any, expected: Any) -> Any:
    """The part of ``actual`` the README shows: go down single-field objects
    until the keys (or the list) the README starts with are there."""
    node = actual
    while True:
        if isinstance(expected, dict) and isinstance(node, dict):
            if set(expected) - {ELLIPSIS} <= set(node):
                return node
        elif isinstance(expected, list) and isinstance(node, list):
            return node
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        node = next(iter(node.values()))


def _float_matches(expected: ReadmeFloat, actual: float) -> bool:
    text = expected.text.lower()
    if "e" in text:
        mantissa = text.split("e")[0]
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return float(f"{actual:.{digits}e}") == float(text)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Decimal(f"{actual:.{decimals}f}") == Decimal(text)


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every place where ``actual`` is not what the README shows, as
    ``path: README value != actual value``."""
    if isinstance(expected, dict):
        return _dict_differences(expected, actual, path)
    if isinstance(expected, list):
        return _list_differences(expected, actual, path)
    if isinstance(expected, ReadmeFloat):
        same = isinstance(actual, float) and _float_matches(expected, actual)
        return [] if same else [f"{path}: README {expected.text} != actual {actual!r}"]
    same = type(expected) is type(actual) and expected == actual
    return [] if same else [f"{path}: README {expected!r} != actual {actual!r}"]


def _dict_differences(expected: dict[str, Any], actual: Any, path: str) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{path}: README an object, actual {actual!r}"]
    shown = set(expected) - {ELLIPSIS}
    found = []
    if ELLIPSIS not in expected and set(actual) != shown:
        found.append(f"{path}: README keys {sorted(shown)} != actual keys {sorted(actual)}")
    for key in sorted(shown):
        if key not in actual:
            found.append(f"{path}.{key}: in the README, not in the answer")
        elif key not in VARYING:
            found += differences(expected[key], actual[key], f"{path}.{key}")
    return found


def _list_differences(expected: list[Any], actual: Any, path: str) -> list[str]:
    if not isinstance(actual, list):
        return [f"{path}: README a list, actual {actual!r}"]
    if ELLIPSIS in expected:
        cut = expected.index(ELLIPSIS)
        head, tail = expected[:cut], expected[cut + 1 :]
        if len(actual) < len(head) + len(tail):
            return [f"{path}: README shows {len(head) + len(tail)} items, actual has {len(actual)}"]
        pairs = list(zip(head, actual, strict=False))
        pairs += list(zip(tail, actual[len(actual) - len(tail) :], strict=True))
        indexes = [*range(len(head)), *range(len(actual) - len(tail), len(actual))]
    else:
        if len(actual) != len(expected):
            return [f"{path}: README has {len(expected)} items, actual {len(actual)}: {actual!r}"]
        pairs, indexes = list(zip(expected, actual, strict=True)), list(range(len(actual)))
    found = []
    for index, (want, got) in zip(indexes, pairs, strict=True):
        found += differences(want, got, f"{path}[{index}]")
    return found


# --- The tests ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    build_demo(root)
    return root


@pytest.fixture(scope="module")
def client(demo_store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(demo_store)) as c:
        yield c


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(e, id=e.name, marks=[pytest.mark.skip(reason=e.skip)] if e.skip else [])
        for e in EXAMPLES if e.kind == kind
    ]


@pytest.mark.parametrize("example", _cases("graphql") + _cases("curl"))
def test_query_answers_what_the_readme_shows(example: Example, client: TestClient) -> None:
    response = client.post("/graphql", json={"query": example.query, "variables": example.variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    actual = body if example.kind == "curl" else locate(body["data"], example.expected)
    found = differences(example.expected, actual)
    assert not found, f"README.md line {example.line}:\n" + "\n".join(found)


@pytest.mark.parametrize("example", _cases("report"))
def test_report_prints_what_the_readme_shows(
    example: Example, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([*example.command, "--data", str(demo_store)])
    out, err = capsys.readouterr()
    printed = out if status == 0 else err
    got = "\n".join(line.rstrip() for line in printed.rstrip("\n").splitlines())
    assert got == example.output, f"README.md line {example.line}"


def test_the_readme_has_examples_to_check() -> None:
    # A change to the README's layout that this parser misses would
    # otherwise pass by checking nothing.
    kinds = [e.kind for e in EXAMPLES]
    assert kinds.count("graphql") >= 25 and kinds.count("curl") >= 1 and kinds.count("report") >= 1


def test_an_ellipsis_stands_for_members_and_items_not_shown() -> None:
    expected = load_json('{"a": [1, …, 9], "b": {"c": 0.12, …}, "d": "x…"}')
    assert expected == {"a": [1, ELLIPSIS, 9], "b": {"c": 0.12, ELLIPSIS: None}, "d": "x…"}
    assert differences(expected, {"a": [1, 5, 7, 9], "b": {"c": 0.1234, "e": 3}, "d": "x…"}) == []
    assert differences(expected, {"a": [1, 9, 8], "b": {"c": 0.1251}, "d": "x…"}) == [
        ".a[2]: README 9 != actual 8", ".b.c: README 0.12 != actual 0.1251",
    ]
    assert differences(load_json("[2.88e-156, 1]"), [2.8812e-156, 1.0]) == [
        "[1]: README 1 != actual 1.0",
    ]
