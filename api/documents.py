"""GraphQL documents parsed and validated off the event loop.

graphql-core's lexer and validators are pure Python: a 1 MB document (one
long string literal is enough) takes about half a second to parse, and done
on the loop that executes operations (api/execution.py) that half second
would stall every other operation. ``OffLoopDocuments`` does both steps in
a worker thread for large documents; the GIL is handed back every
switch interval, so both loops keep answering. Small documents (every real
page) stay on the loop, where a thread hop would cost more than the work.

Front-ends send the same few documents again and again with new variables
(a threshold slider): a parsed document, and the cost of one that passed
validation, are kept by their text in a small LRU, so a repeated document
costs a dictionary lookup instead of a parse and a validation (about half of
a small page's time before).

It also notes the operation's name and estimated cost (api/cost.py) for the
access log and /metrics (api/observability.py).

The hooks are async, so the schema is for ``execute``, not ``execute_sync``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from evalql.api.cost import BreakdownSlices, QueryBounds
from evalql.api.observability import current_request
from evalql.api.views.breakdown import slices_by_column

T = TypeVar("T")

# Parsing this many characters takes about a millisecond.
OFF_LOOP_CHARS = 8_192

# One thread for all large documents: parsing holds the GIL, and the event
# loop wins it back within one switch interval (5 ms) from one thread, but
# waits its turn behind several. Large documents are rare (real pages are a
# few KB), so they may queue.
_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalql-documents")

# Documents kept parsed (and, when valid, validated) by their text. A few
# hundred distinct documents cover every front-end; the bound keeps a client
# that sends endless new ones from growing it.
CACHED_DOCUMENTS = 256


class _LRU:
    """A small thread-safe LRU map (documents are parsed on two threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_PARSED = _LRU(CACHED_DOCUMENTS)
# text -> (the estimated cost of a valid document, the columns it was costed with)
_VALID = _LRU(CACHED_DOCUMENTS)


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in the one thread for large documents and bodies."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PARSER, partial(fn, *args, **kwargs))


def _placeholder(operation_name: str | None) -> DocumentNode:
    """A document standing in for one that failed to parse, so Strawberry
    goes on to report the parse error we give it as a validation error
    (with its code and masking) instead of parsing again on the loop."""
    name = None if operation_name is None else NameNode(value=operation_name)
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY, name=name, selection_set=SelectionSetNode(selections=())
    )
    return DocumentNode(definitions=(operation,))


def _recording(
    rules: Sequence[type], found: list[QueryBounds], columns: BreakdownSlices | None
) -> list[type]:
    """The rules with QueryBounds replaced by a subclass that knows the
    store's breakdown ``columns`` and hands its instance to ``found``
    (graphql-core instantiates rules itself)."""

    def recorded(rule: type[QueryBounds]) -> type:
        class Recorded(rule):  # type: ignore[valid-type, misc]
            def __init__(self, context: Any) -> None:
                self.columns = columns
                super().__init__(context)
                found.append(self)

        return Recorded

    return [recorded(r) if issubclass(r, QueryBounds) else r for r in rules]


class OffLoopDocuments(SchemaExtension):
    """Parses and validates a large document in a thread."""

    def __init__(self) -> None:
        self._parse_error: GraphQLError | None = None

    def _validates(self) -> bool:
        # Strawberry's own condition for validating (see _run_validation).
        context = self.execution_context
        return (context.pre_execution_errors is None and context.graphql_document is not None
                and len(context.validation_rules) > 0)

    def _large(self) -> bool:
        return len(self.execution_context.query or "") > OFF_LOOP_CHARS

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = _PARSED.get(context.query)
        if context.graphql_document is None and context.query:
            try:
                if self._large():
                    document = await off_loop(parse, context.query, **context.parse_options)
                else:
                    document = parse(context.query, **context.parse_options)
            except GraphQLError as error:  # a syntax error, or too many tokens
                self._parse_error = error
                context.graphql_document = _placeholder(context.operation_name)
            else:
                _PARSED.put(context.query, document)
                context.graphql_document = document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self._parse_error is not None:
            context.pre_execution_errors = [self._parse_error]
        elif self._validates() and (cost := self._validated_before()) is not None:
            # Validated before, with these very rules and columns: it passes again.
            context.pre_execution_errors = []
            self._note_cost(cost[0])
        elif self._validates():
            found: list[QueryBounds] = []
            columns = self._columns()
            rules = _recording(context.validation_rules, found, columns)
            args = (context.schema._schema, context.graphql_document, tuple(rules))
            if self._large():
                errors = await off_loop(validate_document, *args)
            else:
                errors = validate_document(*args)
            # Strawberry validates only while this is None: ours stands.
            context.pre_execution_errors = errors
            costs = [bounds.cost for bounds in found if bounds.cost is not None]
            cost = max(costs) if costs else None
            if not errors and context.query:
                _VALID.put(context.query, (cost, columns))
            self._note_cost(cost)
        yield

    def _columns(self) -> BreakdownSlices | None:
        """The store's breakdown slices by column, for the cost of a breakdown."""
        store = getattr(self.execution_context.context, "store", None)
        return None if store is None else slices_by_column(store)

    def _validated_before(self) -> tuple[float | None] | None:
        """(cost,) of this document when it passed with the catalog's current
        columns (a string column added since may make it costlier)."""
        found = _VALID.get(self.execution_context.query)
        if found is None or found[1] is not self._columns():
            return None
        return (found[0],)

    def _note_cost(self, cost: int | None) -> None:
        record = current_request()
        if record is None:
            return
        record.operation = self.execution_context.operation_name
        record.cost = cost
