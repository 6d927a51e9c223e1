"""CSV exports with a column mapping: one row, one interaction.

Map canonical fields to columns with options `map.<field>=<Column>`; fields are those of DESIGN §4 plus
`customer.name`, `customer.email`, `customer.phone`, `customer.handles.<network>`,
`customer.external_ids.<source>` and `metadata.<key>`. Without a mapping a column named like the field
(`text`, `customer.email` or `customer_email`) is used. Fixed values for every row: `set.<field>=<value>`
(e.g. `set.channel=sms`, `set.source=helpdesk`).

Values are forgiving: directions `in/incoming/customer`, `out/outgoing/agent`, `note/private/internal`;
dates in ISO 8601, unix seconds, or `date_format=%d/%m/%Y %H:%M` (UTC unless the format has a zone).
Without an external_id column the row's content hash is used, so importing the same file twice stores it
once. Other options: `delimiter=;`, `encoding=cp1252` (default: UTF-8, then Windows-1252).
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors._common import iso_time, item_error
from connectors.generic import validation_error
from copilot.integrations.base import FileImporter, PayloadError

TOP_FIELDS = ("source", "external_id", "channel", "direction", "author_role", "author_name", "thread_id", "subject",
              "text", "occurred_at")
CUSTOMER_FIELDS = ("name", "email", "phone")
DIRECTIONS = {"in": "inbound", "incoming": "inbound", "inbound": "inbound", "customer": "inbound",
              "received": "inbound", "out": "outbound", "outgoing": "outbound", "outbound": "outbound",
              "agent": "outbound", "sent": "outbound", "reply": "outbound", "note": "internal",
              "private": "internal", "internal": "internal"}
ROLES = {"customer": "customer", "user": "customer", "client": "customer", "agent": "agent", "staff": "agent",
         "operator": "agent", "bot": "bot", "system": "system"}


def decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as err:
            raise PayloadError(f"encoding: cannot decode as {encoding}: {err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel on Windows


def column_for(field: str, options: Mapping[str, Any], headers: list[str]) -> str | None:
    mapped = options.get(f"map.{field}")
    if mapped:
        if mapped not in headers:
            raise PayloadError(f"map.{field}: no column named {mapped!r} (columns: {', '.join(headers)})")
        return str(mapped)
    lowered = {h.strip().lower(): h for h in headers}
    for candidate in (field, field.replace(".", "_"), field.rpartition(".")[2] if field.startswith("customer.")
                      and field.count(".") == 1 else None):
        if candidate and candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


class CsvImporter(FileImporter):
    name: ClassVar[str] = "csv"
    title: ClassVar[str] = "CSV with a column mapping"
    formats: ClassVar[tuple[str, ...]] = ("csv",)

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        try:
            text = decode(data, options.get("encoding"))
        except PayloadError as err:
            yield err
            return
        delimiter = options.get("delimiter")
        if not delimiter:
            try:
                delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        headers = [h for h in (reader.fieldnames or []) if h is not None]
        if not headers:
            yield PayloadError(f"{filename}: no header row")
            return
        try:
            columns = self._columns(options, headers)
        except PayloadError as err:
            yield err
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield item_error(f"malformed CSV ({err})", line=reader.line_num)
                continue
            line = reader.line_num
            if not any((v or "").strip() for k, v in row.items() if k is not None):
                continue
            try:
                yield self._record(row, columns, options)
            except PayloadError as err:
                yield item_error(str(err), line=line)

    @staticmethod
    def _columns(options: Mapping[str, Any], headers: list[str]) -> dict[str, str]:
        fields = [*TOP_FIELDS, *(f"customer.{f}" for f in CUSTOMER_FIELDS)]
        fields += [k.removeprefix("map.") for k in options if str(k).startswith(("map.customer.handles.",
                                                                                 "map.customer.external_ids.",
                                                                                 "map.metadata."))]
        columns = {}
        for field in fields:
            column = column_for(field, options, headers)
            if column:
                columns[field] = column
        unknown = [k for k in options if str(k).startswith("map.") and k.removeprefix("map.") not in columns]
        if unknown:
            raise PayloadError(f"{unknown[0]}: not a field this importer knows")
        return columns

    @staticmethod
    def _record(row: Mapping[str, Any], columns: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, str] = {}
        for field, column in columns.items():
            value = (row.get(column) or "").strip()
            if value:
                values[field] = value
        for key, value in options.items():
            if str(key).startswith("set.") and value:
                values.setdefault(str(key).removeprefix("set."), str(value))
        record: dict[str, Any] = {k: v for k, v in values.items() if k in TOP_FIELDS}
        customer: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        for key, value in values.items():
            if key.startswith("customer.handles."):
                customer.setdefault("handles", {})[key.removeprefix("customer.handles.")] = value
            elif key.startswith("customer.external_ids."):
                customer.setdefault("external_ids", {})[key.removeprefix("customer.external_ids.")] = value
            elif key.startswith("customer."):
                customer[key.removeprefix("customer.")] = value
            elif key.startswith("metadata."):
                metadata[key.removeprefix("metadata.")] = value
        record["customer"] = customer
        record["metadata"] = {**metadata, "import": "csv"}
        record.setdefault("source", "csv")
        if "direction" in record:
            direction = DIRECTIONS.get(record["direction"].lower())
            if direction is None:
                raise PayloadError(f"direction: {record['direction']!r} is not inbound, outbound or internal")
            record["direction"] = direction
        if "author_role" in record:
            record["author_role"] = ROLES.get(record["author_role"].lower(), record["author_role"].lower())
        if "channel" in record:
            record["channel"] = record["channel"].lower()
        if "occurred_at" in record:
            record["occurred_at"] = parse_when(record["occurred_at"], options.get("date_format"))
        if "external_id" not in record:
            # Stable across re-imports of the same export: the row's own content identifies it.
            content = "\x1f".join(f"{k}={values[k]}" for k in sorted(values))
            record["external_id"] = "row-" + hashlib.sha256(content.encode()).hexdigest()[:24]
        error = validation_error(record)
        if error:
            raise PayloadError(error)  # now, with the row's line number, rather than later by index
        return record


def parse_when(value: str, date_format: str | None) -> str:
    if date_format:
        try:
            moment = datetime.strptime(value, date_format)
        except ValueError:
            raise PayloadError(f"occurred_at: {value!r} does not match date_format {date_format!r}") from None
        return iso_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC), where="occurred_at")
    return iso_time(value, where="occurred_at")
