"""Parquet collections (pyarrow), read in row batches with the same field mapping as JSONL."""

from __future__ import annotations

from collections.abc import Iterator

from ..read import EXTRA_FOLDER_SUFFIXES, Failure, FieldMap, Item, _row_doc, path_reader

EXTRA_FOLDER_SUFFIXES.add(".parquet")


def is_parquet(path: str) -> bool:
    return path.lower().endswith((".parquet", ".pq"))


@path_reader(is_parquet)
def read_parquet(path: str, fields: FieldMap) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        yield Failure(path, f"not a readable Parquet file ({exc})")
        return
    columns = pf.schema_arrow.names
    if not fields.has_text(columns):
        yield Failure(
            path,
            f"Parquet file has no text column (looked for {fields.describe_text()}; "
            f"columns are {', '.join(columns)}); pass --field text=COLUMN",
        )
        return
    i = 0
    for batch in pf.iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            yield _row_doc(path, i, row, fields)
            i += 1
