"""The `search` tool: BM25+ (rank-bm25) over a folder of dated documents.

A corpus is a folder of `.md`/`.markdown`/`.txt` files (searched recursively; README.md is skipped).
A file may start with a YAML front matter giving `title`, `date` and `source`:

    ---
    title: 2018 FIFA World Cup final
    date: 2018-07-15
    source: Probity Fixture Wire (sports)
    ---
    France beat Croatia 4-2 in the final ...

Without front matter the title is the file name and the date and source are unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evals.errors import UserError
from evals.tools.base import Tool, ToolResult, string_argument

SUFFIXES = {".md", ".markdown", ".txt"}
_WORD = re.compile(r"[0-9a-zà-ÿ]+|[\u3400-\u9fff]", re.IGNORECASE)
_STOP = set("a an and are as at be by did do does for from has have how in is it its of on or the to was "
            "were what when where which who whom why with about after before tell me please".split())


def tokenize(text: str) -> list[str]:
    """Lower-cased words minus stop words; Chinese as single characters plus bigrams."""
    tokens: list[str] = []
    prev_cjk, prev_end = "", -1
    for m in _WORD.finditer(text.lower()):
        tok = m.group()
        if "\u3400" <= tok <= "\u9fff":
            tokens.append(tok)
            if prev_cjk and m.start() == prev_end:
                tokens.append(prev_cjk + tok)
            prev_cjk, prev_end = tok, m.end()
            continue
        prev_cjk = ""
        if tok not in _STOP:
            tokens.append(tok)
    return tokens


@dataclass(frozen=True)
class Document:
    path: str  # relative to the corpus folder
    title: str
    date: str  # "unknown" when the file does not say
    source: str
    body: str


def parse_document(path: Path, root: Path) -> Document:
    text = path.read_text(encoding="utf-8", errors="replace")
    meta: dict[str, Any] = {}
    if text.startswith("---"):
        head, sep, rest = text[3:].partition("\n---")
        if sep:
            try:
                loaded = yaml.safe_load(head)
            except yaml.YAMLError as exc:
                raise UserError(f"{path}: bad front matter: {str(exc).splitlines()[0]}") from None
            if isinstance(loaded, dict):
                meta, text = loaded, rest.partition("\n")[2]
    body = re.sub(r"<!--.*?-->", "", text, flags=re.S).strip()  # header comments are not content
    return Document(path=str(path.relative_to(root)), title=str(meta.get("title") or path.stem),
                    date=str(meta.get("date") or "unknown"), source=str(meta.get("source") or path.name),
                    body=body)


def _snippet(body: str, query: set[str], chars: int) -> str:
    """The sentence window with the most query words."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*|\n{2,}", body) if s.strip()]
    if not sentences:
        return ""
    best, best_hits = 0, -1
    for i in range(len(sentences)):
        hits = len(query & set(tokenize(" ".join(sentences[i : i + 2]))))
        if hits > best_hits:
            best, best_hits = i, hits
    out = ""
    for sentence in sentences[best:]:
        if out and len(out) + len(sentence) > chars:
            break
        out = f"{out} {sentence}".strip()
    return out if len(out) <= chars else out[: chars - 1].rstrip() + "…"


class Corpus:
    """A BM25 index over one folder, built once."""

    def __init__(self, folder: Path) -> None:
        from rank_bm25 import BM25Plus

        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserError(f"search corpus {self.folder}: folder not found")
        files = sorted(p for p in self.folder.rglob("*")
                       if p.suffix.lower() in SUFFIXES and p.is_file() and p.name.lower() != "readme.md")
        self.docs = [parse_document(p, self.folder) for p in files]
        if not self.docs:
            raise UserError(f"search corpus {self.folder}: no .md/.txt documents")
        self._tokens = [tokenize(f"{d.title} {d.title} {d.body}") for d in self.docs]
        self._bm25 = BM25Plus(self._tokens)  # idf stays positive in tiny corpora

    def search(self, query: str, k: int = 3) -> list[tuple[float, Document]]:
        terms = tokenize(query)
        if not terms:
            return []
        scores = self._bm25.get_scores(terms)
        wanted = set(terms)
        ranked = sorted(range(len(self.docs)), key=lambda i: (-scores[i], self.docs[i].path))
        # a document must share a query word and score above zero; "no results" is a normal answer
        return [(float(scores[i]), self.docs[i]) for i in ranked
                if scores[i] > 0 and wanted & set(self._tokens[i])][:k]


_CACHE: dict[tuple[str, float], Corpus] = {}


def load_corpus(folder: Path) -> Corpus:
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise UserError(f"search corpus {folder}: folder not found")
    mtime = max((p.stat().st_mtime for p in folder.rglob("*")), default=folder.stat().st_mtime)
    key = (str(folder), mtime)
    if key not in _CACHE:
        _CACHE[key] = Corpus(folder)
    return _CACHE[key]


class SearchTool(Tool):
    name = "search"
    description = ("Search a collection of dated documents (news and reference summaries). Returns the best "
                   "matching snippets with their date and source, or says there are no results.")
    parameters = string_argument("query", "keywords, e.g. 2018 World Cup final")
    text_syntax = "a line `search: QUERY`"

    def __init__(self, corpus_dir: Path, k: int = 3, snippet_chars: int = 400) -> None:
        self.corpus = load_corpus(corpus_dir)
        self.k = k
        self.snippet_chars = snippet_chars

    def _run(self, arguments: dict[str, Any]) -> ToolResult:
        query = arguments["query"].strip()
        if not query:
            return ToolResult(error="search: the query is empty")
        hits = self.corpus.search(query, self.k)
        if not hits:
            return ToolResult(output=f"No results for {query!r}.")
        terms = set(tokenize(query))
        lines = []
        for n, (_, doc) in enumerate(hits, 1):
            lines.append(f"[{n}] {doc.title} ({doc.date}; source: {doc.source})\n"
                         f"{_snippet(doc.body, terms, self.snippet_chars)}")
        return ToolResult(output="\n\n".join(lines))
