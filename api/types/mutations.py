"""Mutations: ingest an uploaded file; delete a split, a run or a model.

Every mutation needs the right to write (``IsWriter``): a token with role
write, or, on a server whose store has no token, ``--allow-writes``. They ask
api/writes.py, as query types ask a view: writes run one at a time on a
thread of their own, so queries keep the request threads, and two uploads
never hold two tables in memory at once (across processes, the catalog's
``BEGIN IMMEDIATE`` serialises writers anyway).
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload

from evalql.api import writes
from evalql.api.auth import IsWriter
from evalql.api.context import Context
from evalql.api.errors import BadUserInput
from evalql.api.scalars import JSON
from evalql.api.types.catalog import Split, resolve_split
from evalql.api.types.enums import Task

Info = strawberry.Info[Context, None]


def _column(name: str, role: str) -> Any:
    return strawberry.argument(description=f"The column of {role} (default: {name}), as "
                                           f"evalql ingest's --{name}-column.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsWriter],
        description=(
            "Store an uploaded file of predictions as the split model/run/split and "
            "return it, exactly as `evalql ingest` does: the same formats (chosen by the "
            "file name's extension: .parquet, .csv, .jsonl, .arrow, ...), options and "
            "validation, every refusal a BAD_USER_INPUT error naming the file, row and "
            "column. Send it as a multipart request (the GraphQL multipart request spec) "
            "with an Apollo-Require-Preflight header; the upload is spooled to disk, "
            "never held whole in memory. A store that cannot be written (a full disk) "
            "is STORE_UNAVAILABLE, and nothing is changed. Needs a write token, or "
            "--allow-writes on a server whose store has no token."
        ),
    )
    async def ingest(
        self,
        info: Info,
        file: Upload,
        model: str,
        run: str,
        split: str,
        task: Annotated[Task | None, strawberry.argument(
            description="The model's task; default: the existing model's, else MULTICLASS."
        )] = None,
        labels: Annotated[list[str] | None, strawberry.argument(
            description="The model's labels in order; fixes them at the model's first "
                        "ingest (default: the sorted union of the labels seen). Bounded "
                        "by the size of the request's operations part (1 MiB)."
        )] = None,
        replace: Annotated[bool, strawberry.argument(
            description="Replace the split if it exists (default: refuse)."
        )] = False,
        run_meta: Annotated[JSON | None, strawberry.argument(
            description="The run's metadata, an object of key to value (strings, "
                        "numbers, booleans), such as {commit: \"ab12cd3\", lr: 0.001}: merged "
                        "into what the run has (Run.meta), a key given again takes the "
                        "later value, a null value removes the key; as evalql ingest's "
                        "--run-meta."
        )] = None,
        id_column: Annotated[str, _column("id", "unique row ids")] = "id",
        actual_column: Annotated[str, _column("actual", "ground-truth labels")] = "actual",
        predicted_column: Annotated[
            str, _column("predicted", "predicted labels")] = "predicted",
        confidence_column: Annotated[
            str, _column("confidence", "confidences in [0, 1]")] = "confidence",
        scores_column: Annotated[
            str, _column("scores", "per-label probability lists")] = "scores",
    ) -> Split:
        columns = {
            "id_column": id_column, "actual_column": actual_column,
            "predicted_column": predicted_column, "confidence_column": confidence_column,
            "scores_column": scores_column,
        }
        await writes.ingest(info.context, _uploaded(file), model, run, split,
                            None if task is None else task.value, labels, replace, columns,
                            run_meta)
        return resolve_split(info.context, model, run, split)

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description=(
            "Delete the split model/run/split and its file, at once for every later "
            "query (a query already reading it finishes with its data). True when it was "
            "deleted, false when there was no such split. Its run and model stay."
        ),
    )
    async def delete_split(self, info: Info, model: str, run: str, split: str) -> bool:
        return await writes.delete(info.context, model, run, split)

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description=(
            "Delete the run model/run and all its splits, in one step. True when it was "
            "deleted, false when there was no such run."
        ),
    )
    async def delete_run(self, info: Info, model: str, run: str) -> bool:
        return await writes.delete(info.context, model, run)

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description=(
            "Delete the model, its runs and their splits, in one step. True when it was "
            "deleted, false when there was no such model."
        ),
    )
    async def delete_model(self, info: Info, model: str) -> bool:
        return await writes.delete(info.context, model)


def _uploaded(file: object) -> Any:
    """The uploaded file Starlette handed over; a variable that is something
    else (JSON sent where a file belongs) is refused rather than read."""
    if not all(hasattr(file, attribute) for attribute in ("file", "filename", "close")):
        raise BadUserInput(
            "file has to be an uploaded file: send the request as multipart/form-data "
            "(the GraphQL multipart request spec), with the file mapped to "
            "variables.file"
        )
    return file
