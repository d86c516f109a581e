"""Tests of the template library: rendering, search, usage, versions, import and CLI."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from creator_kit import templates
from creator_kit.errors import ImportRowError, InvalidInputError
from creator_kit.storage import Workspace, append_rows, scan_table
from creator_kit.templates import Placeholder

REPO = Path(__file__).resolve().parents[1]
PROMPTS_CSV = REPO / "data" / "prompts" / "awesome_chatgpt_prompts" / "prompts.csv"
# The console script installed with the package, next to the interpreter.
CLI = [str(Path(sys.executable).parent / "creator-kit")]


# --- rendering ---------------------------------------------------------------

RENDER_CASES = [
    ("plain text", "Hello world", {}, "Hello world"),
    ("one placeholder", "Hello {name}", {"name": "Ada"}, "Hello Ada"),
    ("repeated placeholder", "{a}-{a}", {"a": "x"}, "x-x"),
    ("default used", "Tone: {tone:warm}", {}, "Tone: warm"),
    ("default overridden", "Tone: {tone:warm}", {"tone": "dry"}, "Tone: dry"),
    ("empty default", "[{x:}]", {}, "[]"),
    ("default with colons", "{ratio:16:9}", {}, "16:9"),
    ("format spec is a default, not a spec", "[{width:>10}]", {}, "[>10]"),
    ("format spec ignored when a value is given", "[{width:>10}]", {"width": "7"}, "[7]"),
    ("per-occurrence defaults", "{t:formal} or {t:casual}", {}, "formal or casual"),
    ("value fills every occurrence", "{t:formal} or {t:casual}", {"t": "neutral"}, "neutral or neutral"),
    ("empty value is a value", "[{x:default}]", {"x": ""}, "[]"),
    ("escaped braces", "{{literal}} and {{{name}}}", {"name": "n"}, "{literal} and {n}"),
    ("lone escaped closers", "a }} b {{ c", {}, "a } b { c"),
    (
        "json body",
        '{{"model": "{model}", "messages": [{{"role": "user"}}], "n": {{"a": {{"b": 1}}}}}}',
        {"model": "gpt"},
        '{"model": "gpt", "messages": [{"role": "user"}], "n": {"a": {"b": 1}}}',
    ),
    (
        "code body",
        "def f(x):\n    return {{'k': x}}[{key}]\n",
        {"key": "'k'"},
        "def f(x):\n    return {'k': x}['k']\n",
    ),
    ("value with braces inserted as is", "Say {x}", {"x": "{y} {{z}} {0}"}, "Say {y} {{z}} {0}"),
    ("value with format syntax not interpreted", "{x}", {"x": "{x.__class__}"}, "{x.__class__}"),
    ("unicode names and values", "{名前} さん、{greeting:こんにちは}", {"名前": "太郎"}, "太郎 さん、こんにちは"),
    ("emoji", "🎬 {scene} ✨", {"scene": "sunset 🌅"}, "🎬 sunset 🌅 ✨"),
    (
        "right-to-left text",
        "اكتب قصة عن {موضوع:البحر} للأطفال",
        {},
        "اكتب قصة عن البحر للأطفال",
    ),
    ("right-to-left value", "Title: {title}", {"title": "שלום עולם"}, "Title: שלום עולם"),
    ("dollar sign kept", "Price: ${price}", {"price": "5"}, "Price: $5"),
    ("newlines kept", "a\r\n{x}\n\n", {"x": "b"}, "a\r\nb\n\n"),
]


@pytest.mark.parametrize(
    ("prompt", "values", "expected"),
    [case[1:] for case in RENDER_CASES],
    ids=[case[0] for case in RENDER_CASES],
)
def test_render_table(prompt: str, values: dict[str, str], expected: str) -> None:
    assert templates.render(prompt, values) == expected


BAD_PROMPTS = [
    ("positional field", "Hello {0}", "{0}"),
    ("empty field", "Hello {}", "{}"),
    ("attribute access", "{user.name}", "{user.name}"),
    ("index access", "{items[0]}", "{items[0]}"),
    ("conversion", "{name!r}", "{name!r}"),
    ("spaces in name", "{ name }", "{ name }"),
    ("raw json", '{"a": 1}', '{"a": 1}'),
    ("lone opening brace", "a { b", "lone '{'"),
    ("lone closing brace", "a } b", "lone '}'"),
]


@pytest.mark.parametrize(("prompt", "excerpt"), [c[1:] for c in BAD_PROMPTS], ids=[c[0] for c in BAD_PROMPTS])
def test_render_rejects_invalid_grammar(prompt: str, excerpt: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        templates.render(prompt, {})
    assert excerpt in str(error.value)
    assert "line 1, column" in str(error.value)


def test_render_error_gives_line_and_column() -> None:
    with pytest.raises(InvalidInputError, match=r"line 3, column 6"):
        templates.validate_prompt("one\ntwo\nfour { five")


def test_render_missing_value_names_placeholder() -> None:
    with pytest.raises(InvalidInputError, match="missing value for placeholder 'product'"):
        templates.render("Show {product} on {background:white}", {})


def test_render_unknown_value_names_placeholder() -> None:
    with pytest.raises(InvalidInputError, match="unknown placeholder 'colour'") as error:
        templates.render("Show {product}", {"product": "a mug", "colour": "red"})
    assert "product" in str(error.value)


def test_render_rejects_non_text_value() -> None:
    with pytest.raises(InvalidInputError, match="placeholder 'n' must be text"):
        templates.render("{n}", {"n": 3})  # type: ignore[dict-item]


def test_render_accepts_template_object() -> None:
    template = templates.curated_templates()[0]
    values = {p.name: f"<{p.name}>" for p in templates.placeholders(template)}

    text = templates.render(template, values)

    assert "{" not in text
    assert all(value in text for value in values.values())


def test_placeholders_unique_in_order_with_first_default() -> None:
    found = templates.placeholders("{b:1} {a} {b:2} {{c}} {d:}")
    assert found == [Placeholder("b", "1"), Placeholder("a", None), Placeholder("d", "")]
    assert found[0].label == "B"
    assert Placeholder("product_name").label == "Product name"


def test_escape_braces_round_trip() -> None:
    text = 'if (x) { return {"a": `${b}`}; } }}{{'
    assert templates.render(templates.escape_braces(text)) == text


# --- curated library -----------------------------------------------------------


def test_curated_library_size_and_categories() -> None:
    curated = templates.curated_templates()
    counts = Counter(template.category for template in curated)

    assert len(curated) >= 48
    assert set(counts) == set(templates.CATEGORIES)
    assert min(counts.values()) >= 8
    assert len({template.id for template in curated}) == len(curated)


def test_curated_templates_are_complete() -> None:
    kinds = Counter()
    for template in templates.curated_templates():
        assert template.title.strip(), template.id
        assert template.description.strip(), template.id
        assert "\n" not in template.description, template.id
        assert template.tags, template.id
        assert template.difficulty in templates.DIFFICULTIES, template.id
        assert template.kind in templates.KINDS, template.id
        assert templates.placeholders(template), template.id
        if template.kind == "video":
            # Video prompts are limited to 1000 characters by the video job validation.
            assert len(template.prompt) <= 1000, template.id
        kinds[template.kind] += 1
    assert kinds["text"] >= 8
    assert kinds["video"] >= 8


# --- search --------------------------------------------------------------------


def _custom(workspace: Workspace, title: str, prompt: str, **fields: object) -> templates.Template:
    options = {"category": "Comedy", "description": "", "tags": (), "difficulty": "easy", "kind": "text"}
    options.update(fields)
    return templates.create_template(workspace, title=title, prompt=prompt, **options)  # type: ignore[arg-type]


def test_search_ranks_title_matches_first(workspace: Workspace) -> None:
    in_prompt = _custom(workspace, "Morning routine", "Describe a zebracorn at dawn.", tags=["zebracorn"])
    in_title = _custom(workspace, "Zebracorn portrait", "A portrait.")
    in_description = _custom(workspace, "Unrelated", "Text.", description="All about the zebracorn")
    # Usage must not outrank a title match under relevance sort.
    for number in range(3):
        templates.record_template_use(workspace, in_prompt.id, f"g{number}")

    found = [entry.template.id for entry in templates.search_templates(workspace, "zebracorn")]

    assert found == [in_title.id, in_prompt.id, in_description.id]


def test_search_needs_every_word(workspace: Workspace) -> None:
    both = _custom(workspace, "Quokka ferry", "x")
    _custom(workspace, "Quokka only", "x")

    found = [entry.template.id for entry in templates.search_templates(workspace, "ferry QUOKKA")]

    assert found == [both.id]


def test_search_whole_phrase_in_title_first(workspace: Workspace) -> None:
    scattered = _custom(workspace, "Blue sky and red barn", "x")
    phrase = _custom(workspace, "A red barn at dusk", "blue")

    found = [e.template.id for e in templates.search_templates(workspace, "red barn")]

    assert found[:2] == [phrase.id, scattered.id]


def test_search_finds_curated_by_tag_and_prompt(workspace: Workspace) -> None:
    by_tag = templates.search_templates(workspace, "unboxing")
    by_prompt = templates.search_templates(workspace, "turntable")

    assert "product-unboxing-video" in [e.template.id for e in by_tag]
    assert {"product-360-turntable", "commercial-product-showcase-15s"} <= {
        e.template.id for e in by_prompt
    }


def test_search_filters(workspace: Workspace) -> None:
    video = templates.search_templates(workspace, kind="video")
    hard_comedy = templates.search_templates(workspace, category="Comedy", difficulty="hard")
    comedy = templates.search_templates(workspace, category="Comedy")
    tagged = templates.search_templates(workspace, tag="JSON")

    assert video and all(e.template.kind == "video" for e in video)
    assert all(e.template.category == "Comedy" and e.template.difficulty == "hard" for e in hard_comedy)
    assert len(comedy) == 8
    assert [e.template.id for e in tagged] == ["educational-quiz-json"]


def test_search_rejects_unknown_filter(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="invalid difficulty 'extreme'"):
        templates.search_templates(workspace, difficulty="extreme")
    with pytest.raises(InvalidInputError, match="invalid sort 'random'"):
        templates.search_templates(workspace, sort="random")


def test_search_sorts_by_usage_rating_trending_title(workspace: Workspace) -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    old, new, rated = "narrative-opening-scene", "comedy-sketch-premise", "product-comparison-table"
    append_rows(
        workspace,
        "template_usage",
        [
            {"template_id": old, "kind": "use", "generation_id": f"old{n}", "recorded_at": now - timedelta(days=20)}
            for n in range(5)
        ]
        + [
            {"template_id": new, "kind": "use", "generation_id": f"new{n}", "recorded_at": now - timedelta(days=1)}
            for n in range(2)
        ],
    )
    templates.rate_template(workspace, rated, 5)
    templates.rate_template(workspace, old, 2)

    def first(sort: str) -> list[str]:
        return [e.template.id for e in templates.search_templates(workspace, sort=sort, now=now)]

    assert first("usage")[:2] == [old, new]
    assert first("trending")[0] == new
    assert first("rating")[:2] == [rated, old]
    titles = [e.template.title.casefold() for e in templates.search_templates(workspace, sort="title")]
    assert titles == sorted(titles)


# --- usage and rating ------------------------------------------------------------


def test_usage_counts_generations_from_templates(workspace: Workspace) -> None:
    template_id = "storytelling-fable-modern"
    template = templates.get_template(workspace, template_id)
    for number in range(3):
        generation_id = f"gen-{number}"
        prompt = templates.render(template, {"lesson": f"lesson {number}"})
        append_rows(
            workspace,
            "generations",
            [
                {
                    "id": generation_id,
                    "created_at": datetime.now(UTC),
                    "provider": "local",
                    "model": "m",
                    "status": "success",
                    "prompt": prompt,
                    "template_id": template_id,
                }
            ],
        )
        templates.record_template_use(workspace, template_id, generation_id)
    # Recording the same generation again does not count twice.
    templates.record_template_use(workspace, template_id, "gen-2")

    stats = templates.template_stats(workspace)[template_id]
    generations = scan_table(workspace, "generations").filter(pl.col("template_id") == template_id).collect()

    assert stats.uses == 3
    assert stats.recent_uses == 3
    assert stats.rating is None
    assert generations.height == 3
    assert templates.search_templates(workspace, "modern fable")[0].stats.uses == 3


def test_latest_rating_counts(workspace: Workspace) -> None:
    templates.rate_template(workspace, "comedy-meme-captions", 2)
    templates.rate_template(workspace, "comedy-meme-captions", 5)
    templates.rate_template(workspace, "comedy-meme-captions", 4)

    stats = templates.template_stats(workspace)["comedy-meme-captions"]
    facts = scan_table(workspace, "template_usage").collect()

    assert stats.rating == 4
    assert stats.uses == 0
    assert facts.height == 3
    assert set(facts["kind"]) == {"rating"}


@pytest.mark.parametrize("rating", [0, 6, 3.5, True, "4"])
def test_rating_must_be_one_to_five(workspace: Workspace, rating: object) -> None:
    with pytest.raises(InvalidInputError, match="invalid rating"):
        templates.rate_template(workspace, "comedy-meme-captions", rating)  # type: ignore[arg-type]


def test_rating_unknown_template(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="template 'nope' not found"):
        templates.rate_template(workspace, "nope", 3)


def test_trending_window_is_seven_days(workspace: Workspace) -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    append_rows(
        workspace,
        "template_usage",
        [
            {"template_id": "t", "kind": "use", "generation_id": "a", "recorded_at": now - timedelta(days=6, hours=23)},
            {"template_id": "t", "kind": "use", "generation_id": "b", "recorded_at": now - timedelta(days=7, hours=1)},
        ],
    )
    stats = templates.template_stats(workspace, now=now)["t"]
    assert (stats.uses, stats.recent_uses) == (2, 1)


# --- custom templates and versions -------------------------------------------------


def test_create_edit_history_restore(workspace: Workspace) -> None:
    created = _custom(workspace, "Pitch", "Pitch {product}.", tags="ad, short")

    edited = templates.edit_template(workspace, created.id, prompt="Pitch {product} to {audience}.")
    retitled = templates.edit_template(workspace, created.id, title="Elevator pitch")
    history = templates.template_history(workspace, created.id)
    restored = templates.restore_template(workspace, created.id, 1)

    assert created.id.startswith("my-pitch-")
    assert created.tags == ("ad", "short")
    assert (edited.version, retitled.version, restored.version) == (2, 3, 4)
    assert [t.version for t in history] == [1, 2, 3]
    assert [t.title for t in history] == ["Pitch", "Pitch", "Elevator pitch"]
    assert restored.prompt == "Pitch {product}."
    assert restored.title == "Pitch"
    assert templates.get_template(workspace, created.id).version == 4
    assert len(templates.template_history(workspace, created.id)) == 4


def test_compare_versions_shows_changed_lines(workspace: Workspace) -> None:
    created = _custom(workspace, "Pitch", "Line one\nPitch {product}.")
    templates.edit_template(workspace, created.id, prompt="Line one\nPitch {product} today.", difficulty="hard")

    diff = templates.compare_versions(workspace, created.id, 1, 2)

    assert "-Pitch {product}." in diff
    assert "+Pitch {product} today." in diff
    assert "-difficulty: easy" in diff
    assert "+difficulty: hard" in diff
    assert " Line one" in diff
    assert templates.compare_versions(workspace, created.id, 2, 2) == ""


def test_archive_hides_and_restore_brings_back(workspace: Workspace) -> None:
    created = _custom(workspace, "Temporary", "x {y}")

    archived = templates.archive_template(workspace, created.id)
    listed = {t.id for t in templates.list_templates(workspace)}
    with pytest.raises(InvalidInputError, match="is archived"):
        templates.edit_template(workspace, created.id, title="new")
    back = templates.restore_template(workspace, created.id)

    assert archived.archived
    assert archived.version == 2
    assert created.id not in listed
    assert created.id in {t.id for t in templates.list_templates(workspace, include_archived=True)}
    assert not back.archived
    assert back.version == 3
    assert created.id in {t.id for t in templates.list_templates(workspace)}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "needs a title"),
        ({"prompt": ""}, "needs a prompt"),
        ({"prompt": 'Return {"a": 1}'}, "invalid template prompt"),
        ({"category": "Horror"}, "invalid category 'Horror'"),
        ({"difficulty": "expert"}, "invalid difficulty"),
        ({"kind": "image"}, "invalid kind"),
    ],
)
def test_create_rejects_invalid_fields(workspace: Workspace, fields: dict[str, str], message: str) -> None:
    options = {"title": "T", "prompt": "P {x}", "category": "Comedy"} | fields
    with pytest.raises(InvalidInputError, match=message):
        templates.create_template(workspace, **options)


def test_curated_templates_cannot_be_edited(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="curated"):
        templates.edit_template(workspace, "comedy-meme-captions", title="x")
    with pytest.raises(InvalidInputError, match="curated"):
        templates.template_history(workspace, "comedy-meme-captions")


def test_edit_without_change_and_bad_version(workspace: Workspace) -> None:
    created = _custom(workspace, "Same", "x")
    with pytest.raises(InvalidInputError, match="nothing to change"):
        templates.edit_template(workspace, created.id, title="Same")
    with pytest.raises(InvalidInputError, match="has no version 7; its versions are 1"):
        templates.restore_template(workspace, created.id, 7)
    with pytest.raises(InvalidInputError, match="cannot edit field 'id'"):
        templates.edit_template(workspace, created.id, id="other")


# --- import of awesome-chatgpt-prompts ---------------------------------------------

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")


def _csv_rows() -> list[dict[str, str]]:
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with PROMPTS_CSV.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    finally:
        csv.field_size_limit(limit)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, templates.ImportReport]:
    workspace = Workspace(tmp_path_factory.mktemp("import") / "workspace")
    report = templates.import_templates(workspace, PROMPTS_CSV, format="awesome-chatgpt-prompts")
    return workspace, report


def test_import_row_count_equals_file(imported: tuple[Workspace, templates.ImportReport]) -> None:
    workspace, report = imported
    rows = _csv_rows()
    stored = [t for t in templates.list_templates(workspace) if t.source == "awesome-chatgpt-prompts"]

    assert report.rows == len(rows) == 1529
    assert report.added == len(rows)
    assert len(stored) == len(rows)
    assert len({t.id for t in stored}) == len(rows)
    assert all("awesome-chatgpt-prompts" in t.tags for t in stored)
    assert all(t.category == templates.IMPORTED_CATEGORY for t in stored)


def test_import_keeps_every_prompt(imported: tuple[Workspace, templates.ImportReport]) -> None:
    workspace, _ = imported
    stored = [t for t in templates.list_templates(workspace) if t.source == "awesome-chatgpt-prompts"]
    rows = _csv_rows()
    variables_seen = 0
    longest = 0

    for row, template in zip(rows, stored, strict=True):
        original = row["prompt"]
        variables = _VARIABLE.findall(original)
        occurrences = [p for p in templates.parse_prompt(template.prompt) if isinstance(p, Placeholder)]
        variables_seen += len(variables)
        longest = max(longest, len(original))

        assert template.title == row["act"].strip()
        # Every ${...} became one placeholder occurrence, in the same order.
        assert [p.name for p in occurrences] == [templates.placeholder_name(v.partition(":")[0]) for v in variables]

        # Filling each placeholder with a marker gives back the original with each
        # variable replaced by the same marker: nothing else changed.
        values = {p.name: f"\u2063{p.name}\u2063" for p in templates.placeholders(template)}
        expected = _VARIABLE.sub(
            lambda m: f"\u2063{templates.placeholder_name(m.group(1).partition(':')[0])}\u2063", original
        )
        assert templates.render(template, values) == expected, template.id

        # With defaults only, the original comes back with its defaults filled in.
        if all(p.default is not None for p in occurrences):
            with_defaults = _VARIABLE.sub(lambda m: m.group(1).partition(":")[2].strip(), original)
            assert templates.render(template) == with_defaults, template.id
        if not variables:
            assert templates.render(template) == original, template.id

    assert variables_seen > 1000
    assert longest > 100_000


def test_import_keeps_long_prompts_whole(imported: tuple[Workspace, templates.ImportReport]) -> None:
    workspace, _ = imported
    long_rows = [row for row in _csv_rows() if len(row["prompt"]) > 100_000]
    by_title = {t.title: t for t in templates.list_templates(workspace)}

    assert len(long_rows) == 2
    for row in long_rows:
        template = by_title[row["act"].strip()]
        assert templates.render(template, {p.name: "" for p in templates.placeholders(template)}).startswith(
            row["prompt"][:200].split("${")[0]
        )
        assert len(template.prompt) >= len(row["prompt"]) - 20 * len(_VARIABLE.findall(row["prompt"]))


def test_import_known_prompt_examples(imported: tuple[Workspace, templates.ImportReport]) -> None:
    workspace, _ = imported
    rows = {row["act"]: row["prompt"] for row in _csv_rows()}
    brace_rows = [act for act, prompt in rows.items() if "{" in prompt and "${" not in prompt]
    template = templates.get_template(workspace, "acp-linux-terminal")

    assert template.tags[0] == "awesome-chatgpt-prompts"
    assert templates.render(template) == rows["Linux Terminal"]
    assert brace_rows, "the file has prompts with literal braces"
    for act in brace_rows[:50]:
        stored = next(t for t in templates.list_templates(workspace) if t.title == act.strip())
        assert templates.render(stored) == rows[act]


def test_import_twice_is_idempotent(imported: tuple[Workspace, templates.ImportReport]) -> None:
    workspace, _ = imported
    before = scan_table(workspace, "custom_templates").select(pl.len()).collect().item()

    again = templates.import_templates(workspace, PROMPTS_CSV, format="awesome-chatgpt-prompts")

    assert (again.added, again.updated, again.unchanged) == (0, 0, 1529)
    assert scan_table(workspace, "custom_templates").select(pl.len()).collect().item() == before


def test_import_changed_prompt_gets_new_version(workspace: Workspace, tmp_path: Path) -> None:
    file = tmp_path / "prompts.csv"
    file.write_text('act,prompt,for_devs,type,contributor\nPoet,"Write a ${Form:haiku} about {x}",FALSE,TEXT,me\n')
    templates.import_templates(workspace, file, format="awesome-chatgpt-prompts")
    file.write_text('act,prompt,for_devs,type,contributor\nPoet,"Write a ${Form:sonnet} about {x}",TRUE,TEXT,me\n')

    report = templates.import_templates(workspace, file, format="awesome-chatgpt-prompts")
    template = templates.get_template(workspace, "acp-poet")

    assert (report.added, report.updated) == (0, 1)
    assert template.version == 2
    assert template.prompt == "Write a {form:sonnet} about {{x}}"
    assert templates.render(template) == "Write a sonnet about {x}"
    assert "for-devs" in template.tags


def test_import_rejects_bad_files(workspace: Workspace, tmp_path: Path) -> None:
    no_prompt = tmp_path / "a.csv"
    no_prompt.write_text("act,text\nx,y\n")
    empty_row = tmp_path / "b.csv"
    empty_row.write_text('act,prompt\nGood,"ok"\nBad,""\n')

    with pytest.raises(InvalidInputError, match="has no column 'prompt'"):
        templates.import_templates(workspace, no_prompt, format="awesome-chatgpt-prompts")
    with pytest.raises(ImportRowError, match=r"b\.csv:3: the prompt of 'Bad' is empty"):
        templates.import_templates(workspace, empty_row, format="awesome-chatgpt-prompts")
    with pytest.raises(InvalidInputError, match="unknown import format 'yaml'"):
        templates.import_templates(workspace, no_prompt, format="yaml")
    with pytest.raises(InvalidInputError, match="cannot read"):
        templates.import_templates(workspace, tmp_path / "missing.csv", format="awesome-chatgpt-prompts")


def test_convert_variables_nested_and_literal() -> None:
    assert templates.convert_variables("${${int}} and ${{ secrets.X }}") == "${{{int}}} and ${{{{ secrets.X }}}}"
    assert templates.render(templates.convert_variables("${${int}}"), {"int": "3"}) == "${3}"
    assert templates.convert_variables("${Mother Language: Turkish }") == "{mother_language:Turkish}"


# --- command line (real subprocess) -----------------------------------------------


def _run(*args: str, workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "templates", *args, "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        cwd=REPO,
    )


def test_cli_list_json_curated(tmp_path: Path) -> None:
    result = _run("list", "--json", workspace=tmp_path / "ws")
    listed = json.loads(result.stdout)
    curated = [t for t in listed if t["source"] == "curated"]
    counts = Counter(t["category"] for t in curated)

    assert result.returncode == 0, result.stderr
    assert len(curated) >= 48
    assert set(counts) == set(templates.CATEGORIES)
    assert min(counts.values()) >= 8
    assert {"id", "title", "description", "prompt", "tags", "difficulty", "kind", "uses", "rating"} <= set(
        curated[0]
    )


def test_cli_add_edit_history_render_rate(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    added = _run(
        "add", "--title", "Ad", "--prompt", 'Sell {thing} {{"k": 1}}', "--category", "Commercial", "--json",
        workspace=ws,
    )
    template_id = json.loads(added.stdout)["id"]
    edited = _run("edit", template_id, "--prompt", "Sell {thing:soap} now", workspace=ws)
    history = _run("history", template_id, "--json", workspace=ws)
    diff = _run("history", template_id, "--diff", "1", "2", workspace=ws)
    rendered = _run("render", template_id, workspace=ws)
    rendered_v = _run("render", template_id, "--set", "thing=tea", workspace=ws)
    missing = _run("render", "educational-quiz-json", workspace=ws)
    rated = _run("rate", template_id, "4", workspace=ws)
    shown = _run("show", template_id, "--json", workspace=ws)

    assert added.returncode == 0, added.stderr
    assert edited.returncode == 0, edited.stderr
    assert "stored version 2" in edited.stdout
    assert [v["version"] for v in json.loads(history.stdout)] == [1, 2]
    assert '+Sell {thing:soap} now' in diff.stdout
    assert rendered.stdout == "Sell soap now"
    assert rendered_v.stdout == "Sell tea now"
    assert missing.returncode == 1
    assert "missing value for placeholder 'topic'" in missing.stderr
    assert rated.returncode == 0
    assert json.loads(shown.stdout)["rating"] == 4
    assert json.loads(shown.stdout)["placeholders"] == [{"name": "thing", "default": "soap"}]


def test_cli_search_and_import(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    file = tmp_path / "p.csv"
    file.write_text('act,prompt,for_devs,type,contributor\nRegex Helper,"Explain ${Pattern}",TRUE,TEXT,x\n')

    imported = _run("import", str(file), "--format", "awesome-chatgpt-prompts", "--json", workspace=ws)
    found = _run("search", "regex", "--json", workspace=ws)
    filtered = _run("list", "--category", "Product", "--kind", "video", "--json", workspace=ws)

    assert json.loads(imported.stdout) == {"rows": 1, "added": 1, "updated": 0, "unchanged": 0}
    assert [t["id"] for t in json.loads(found.stdout)] == ["acp-regex-helper"]
    assert {t["category"] for t in json.loads(filtered.stdout)} == {"Product"}
    assert {t["kind"] for t in json.loads(filtered.stdout)} == {"video"}
