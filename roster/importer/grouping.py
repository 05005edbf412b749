"""The errors of a rejected file grouped by rule, for the result page and the API.

A file with a few typos and many missing documents used to list one problem per missing
document, burying the typos. Grouped, the field problems come first (one group per column,
in the order they first occur), each with its count; the required documents come last, once
per provider ("Row 3 (Ann Lee): needs a state license document, a DEA document"). The raw
per-row list stays on the job (`job.errors`, the error CSV).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roster.importer.checking import DOCUMENT_REQUIRED

SHOWN = 5  # items shown per group before "show the rest"
REST_MAX = 200  # items behind "show the rest" on the page; beyond, the error CSV has them


@dataclass
class ErrorGroup:
    rule: str  # "column:<name>", "file" or "document_required"
    title: str
    count: int = 0  # problems in the group (documents, for the document group)
    items: list[dict] = field(default_factory=list)  # one per problem (per provider for docs)

    @property
    def first(self) -> list[dict]:
        return self.items[:SHOWN]

    @property
    def rest(self) -> list[dict]:
        return self.items[SHOWN : SHOWN + REST_MAX]

    @property
    def beyond(self) -> int:
        """Items neither shown nor behind "show the rest" (they are in the error CSV)."""
        return max(len(self.items) - SHOWN - REST_MAX, 0)

    def as_dict(self, shown: int | None = SHOWN) -> dict:
        return {
            "rule": self.rule,
            "title": self.title,
            "count": self.count,
            "rows": len(self.items),
            "items": self.items if shown is None else self.items[:shown],
        }


def _document_phrase(label: str) -> str:
    # "State license" -> "a state license"; "DEA registration" keeps its acronym.
    word = label if label[:2].isupper() else label[:1].lower() + label[1:]
    article = "an" if word[:1] in "aeiou" else "a"
    return f"{article} {word} document"


def _documents_sentence(labels: list[str]) -> str:
    return "needs " + ", ".join(_document_phrase(label) for label in labels if label)


def group_errors(errors: list[dict]) -> list[ErrorGroup]:
    """Field problems first, grouped by column with counts; then documents, once per provider."""
    groups: dict[str, ErrorGroup] = {}
    documents: dict[int | None, dict] = {}
    doc_count = 0
    for e in errors:
        if e.get("rule") == DOCUMENT_REQUIRED:
            doc_count += 1
            item = documents.setdefault(
                e.get("row"),
                {
                    "row": e.get("row"),
                    "provider": e.get("provider", ""),
                    "npi": e.get("npi", ""),
                    "documents": [],
                },
            )
            item["documents"].append(e.get("document", ""))
            continue
        column = e.get("column") or ""
        key = f"column:{column}" if column else "file"
        group = groups.get(key)
        if group is None:
            title = f"Column {column}" if column else "The file"
            group = groups[key] = ErrorGroup(rule=key, title=title)
        group.count += 1
        group.items.append({k: e.get(k) for k in ("row", "column", "value", "reason")})
    result = list(groups.values())
    if documents:
        items = []
        for item in documents.values():
            who = f" ({item['provider']})" if item["provider"] else ""
            where = f"Row {item['row']}" if item["row"] else "The file"
            item["reason"] = f"{where}{who}: {_documents_sentence(item['documents'])}."
            items.append(item)
        result.append(
            ErrorGroup(
                rule=DOCUMENT_REQUIRED,
                title="Required documents missing",
                count=doc_count,
                items=items,
            )
        )
    return result
