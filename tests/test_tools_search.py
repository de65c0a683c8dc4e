from __future__ import annotations

from pathlib import Path

import pytest

from evals.errors import UserError
from evals.tools import get_tools
from evals.tools.search import Corpus, parse_document, tokenize

ROOT = Path(__file__).resolve().parent.parent
POST = ROOT / "suites" / "corpus" / "post_cutoff"
BIOS = ROOT / "suites" / "corpus" / "fictional_bios"


def test_top_hit_is_the_relevant_document_with_date_and_source():
    (search,) = get_tools(["search"], POST)
    out = search.run({"query": "Who won the 2018 FIFA World Cup?"}).output
    first = out.split("\n\n")[0]
    assert first.startswith("[1] France win the 2018 FIFA World Cup (2018-07-15; source: ")
    assert "Croatia 4-2" in first
    out = search.run({"query": "2024 Nobel Prize in Physics"}).output
    assert out.startswith("[1] Nobel Prize in Physics 2024") and "Hopfield" in out.split("\n\n")[0]


def test_chinese_queries_find_chinese_documents():
    (search,) = get_tools(["search"], POST)
    assert "霍普菲尔德" in search.run({"query": "2024年诺贝尔物理学奖"}).output.split("\n\n")[0]


def test_no_results_is_a_normal_answer():
    (search,) = get_tools(["search"], BIOS)
    r = search.run({"query": "Bartholomew Quince Zorblax"})
    assert r.ok and r.output.startswith("No results")
    assert search.run({"query": "   "}).error


def test_every_fixture_file_is_marked_and_dated():
    for folder in (POST, BIOS):
        docs = Corpus(folder).docs
        assert len(docs) >= 15
        for path in folder.glob("*.md"):
            if path.name != "README.md":
                assert "FIXTURE corpus" in path.read_text().split("\n---\n")[0]
        assert all(d.date[:2] in ("19", "20") for d in docs)
        assert all("FIXTURE" not in d.body for d in docs)  # the marker is header, not content


def test_user_folder_without_front_matter(tmp_path):
    (tmp_path / "notes.txt").write_text("The quarterly review of the zephyr project is on Tuesday.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.md").write_text("---\ntitle: Lunch\ndate: 2025-01-02\n---\nSoup on Friday.")
    (search,) = get_tools(["search"], tmp_path)
    out = search.run({"query": "zephyr review"}).output
    assert out.startswith("[1] notes (unknown; source: notes.txt)")
    assert "2025-01-02" in search.run({"query": "soup"}).output


def test_bad_corpus_folders_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        get_tools(["search"], tmp_path / "missing")
    with pytest.raises(UserError, match="no .md"):
        get_tools(["search"], tmp_path)
    with pytest.raises(UserError, match="corpus"):
        get_tools(["search"], None)
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nbody")
    with pytest.raises(UserError, match="front matter"):
        parse_document(tmp_path / "bad.md", tmp_path)


def test_registry_names_and_errors():
    tools = get_tools(["python", "calculator", "python"], None)
    assert [t.name for t in tools] == ["python", "calculator"]
    with pytest.raises(UserError, match="did you mean 'python'"):
        get_tools(["pyhton"], None)


def test_tokenize():
    assert tokenize("Who won the 2018 World-Cup?") == ["won", "2018", "world", "cup"]
    assert tokenize("世界杯") == ["世", "界", "世界", "杯", "界杯"]
