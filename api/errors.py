"""User-facing GraphQL errors, each with an ``extensions.code``.

Anything else a resolver raises is a bug and is masked before it reaches the
user (see ``should_mask``), so no stack trace or internal message leaks.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from evalql.storage.errors import CorruptSplitError, SplitChanged, StoreError


class UserError(GraphQLError):
    """An error the user can act on; its message is shown as is."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class NotFound(UserError):
    code = "NOT_FOUND"


class BadUserInput(UserError):
    code = "BAD_USER_INPUT"


class DataUnavailable(UserError):
    """A split whose data file cannot be read; the rest of the store still works."""

    code = "DATA_UNAVAILABLE"


class StoreUnavailable(UserError):
    """A write the store refused (a full disk, a permission): nothing was
    changed, and the same request can be sent again once the store is fixed."""

    code = "STORE_UNAVAILABLE"


class CostLimit(UserError):
    """A request that would cost more than the limits allow; refused, not computed."""

    code = "COST_LIMIT"


def one_of(values: Iterable[str], limit: int = 20) -> str:
    """Name valid options in a message: ``"a", "b" or "c"`` (at most ``limit``)."""
    shown = [f'"{v}"' for v in values]
    more = len(shown) - limit
    if more > 0:
        shown = shown[:limit] + [f"{more} more"]
    if len(shown) <= 1:
        return "".join(shown) or "nothing"
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def translated(error: StoreError) -> UserError:
    """The user-facing error for a storage error raised while answering a query."""
    if isinstance(error, CorruptSplitError | SplitChanged):
        return DataUnavailable(str(error))
    return BadUserInput(str(error))


def should_mask(error: GraphQLError) -> bool:
    """Mask every error that is neither ours nor graphql-core's own.

    graphql-core's errors (syntax, validation, a variable of the wrong type)
    are about the query and safe to show; anything else is a bug.
    """
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, GraphQLError)


class CodedErrors(MaskErrors):
    """Masks unexpected errors and gives every error an ``extensions.code``.

    Masked errors say "Unexpected error." with ``INTERNAL_SERVER_ERROR``; an
    error about the query itself (syntax, validation, variables) without a
    code of its own gets ``BAD_USER_INPUT``.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed
