"""Loading scenario files: every mistake is reported, with its line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.errors import InputError, Problem
from simulator.scenario import (
    Scenario,
    load_scenario,
    load_scenario_text,
    scenario_json_schema,
    validate_file,
    yaml_source,
)
from simulator.scenario.schema import schema_text
from simulator.scenario.yaml_source import read_yaml

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]

BASE = """\
name: Test
question: Does it work?
actors:
  US: United States
  UA: Ukraine
parameters:
  cost:
    value: 0.3
    assumption: true
issues:
  share:
    range: [0, 1]
    unit: share
    description: revenue share
    status_quo: 0
  guarantee:
    values: [0, 0.5, 1]
    unit: level
    description: guarantee strength
    status_quo: 0
payoffs:
  US: "share - cost * guarantee"
  UA: "guarantee - share"
games:
  - name: g
    kind: strategic
    players: [US, UA]
    strategies:
      US: [hard, soft]
      UA: [sign, hold]
    outcomes:
      - when: {US: hard, UA: sign}
        deal: {share: 0.5}
      - when: {UA: sign}
        deal: {share: 0.2, guarantee: 1}
      - when: {}
        no_deal: true
"""

TABLE = """\
name: T
question: q
actors: {A: Alice, B: Bob}
parameters:
  p: {value: 2, assumption: true}
issues:
  i: {range: [0, 1], unit: u, description: d}
games:
  - name: t
    kind: strategic
    players: [A, B]
    strategies: {A: [x, y], B: [l, m, r]}
    table:
      - [[1, 2], [3, 4], [5, 6]]
      - [[7, 8], [9, 10], [11, "p * 2"]]
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_scenario_text(text, source="test.yaml")
    return list(info.value.problems)


def line_containing(text: str, marker: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in the text")


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------- valid files


def test_base_texts_are_valid() -> None:
    assert load_scenario_text(BASE).game_names == ("g",)
    assert load_scenario_text(TABLE).game_names == ("t",)


def test_fixture_loads_with_fields_and_positions() -> None:
    path = DATA / "minimal_scenario.yaml"
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == "Minimal deal"
    assert scenario.question.startswith("Does a guarantee")
    assert scenario.sources == ("invented for tests",)
    assert scenario.actors == {"US": "United States", "UA": "Ukraine", "NO": "Norway"}
    assert scenario.parameters["cost"].assumption
    assert scenario.parameters["occupied"].source == "test figure"
    assert scenario.issues["guarantee"].values == (0, 0.5, 1)
    assert scenario.issues["share"].range == (0, 1)
    assert scenario.game_names == ("one_shot", "pd")
    assert [g.kind for g in scenario.games] == ["strategic", "strategic"]
    assert scenario.games[0].description.startswith("US proposes")
    assert scenario.source_file == str(path)
    text = path.read_text()
    deal_line = line_containing(text, "deal: {share: 0.5}")
    assert scenario.line_of(("games", 0, "outcomes", 0, "deal", "share")) == deal_line
    # A path below a known one falls back to its nearest ancestor.
    assert scenario.line_of(("payoffs", "UA", "nowhere")) == line_containing(text, 'UA: "0.8')


def test_scenario_is_frozen() -> None:
    scenario = load_scenario_text(BASE)
    with pytest.raises(ValueError, match="frozen"):
        scenario.name = "other"  # type: ignore[misc]


def test_validate_file_returns_no_problems_for_a_valid_file() -> None:
    assert validate_file(DATA / "minimal_scenario.yaml") == []


def test_yaml_12_scalars() -> None:
    doc = read_yaml("a: [yes, no, NO, on, off, y, 1e-3, 012, 0x10, 0o17, true, ~, 2025-01-01]")
    assert doc.problems == []
    assert doc.data == {
        "a": ["yes", "no", "NO", "on", "off", "y", 0.001, 12, 16, 15, True, None, "2025-01-01"]
    }


# ------------------------------------------- each mistake, its line and field

MISTAKES = [
    # (old, new, field, message fragment, marker of the expected line)
    ("payoffs:", "payof:", "payof", "unknown field 'payof' (did you mean 'payoffs'?)", "payof:"),
    (
        "    status_quo: 0\n  guarantee:",
        "    status_quo: 0\n    colour: red\n  guarantee:",
        "issues.share.colour",
        "unknown field 'colour'; expected one of: range, values, unit, description, status_quo",
        "colour",
    ),
    ("question: Does it work?\n", "", "question", "missing required field 'question'", "name:"),
    ("value: 0.3", 'value: "0.3"', "parameters.cost.value", "expected a number", "value:"),
    ("value: 0.3", "value: .inf", "parameters.cost.value", "finite number", "value:"),
    ("value: 0.3", "value: true", "parameters.cost.value", "got true", "value:"),
    ("  UA: Ukraine", "  U-A: Ukraine", "actors.U-A", "'U-A' is not a valid name", "U-A:"),
    ("  UA: Ukraine", "  UA: [Ukraine]", "actors.UA", "expected text, got a list", "UA: [Uk"),
    ("games:\n", "negsim: 2\ngames:\n", "negsim", "unsupported format version 2", "negsim"),
    (
        "kind: strategic",
        "kind: sequentil",
        "games[0].kind",
        "unknown game kind 'sequentil'",
        "kind",
    ),
    ("    kind: strategic\n", "", "games[0].kind", "missing required field 'kind'", "- name: g"),
    (
        "players: [US, UA]",
        "players: [US, UA]\n    payoffs: {}",
        "games[0].payoffs",
        "unknown field 'payoffs'; expected one of: name, kind, description, players",
        "    payoffs: {}",
    ),
    ("players: [US, UA]", "players: [US]", "games[0].players", "at least 2 items", "players:"),
    (
        "players: [US, UA]",
        "players: [US, RU]",
        "games[0].players[1]",
        "'RU' is not an actor",
        "players:",
    ),
    (
        "US: [hard, soft]",
        "US: [hard, soft, hard]",
        "games[0].strategies.US[2]",
        "strategy 'hard' is listed twice for US",
        "US: [hard",
    ),
    (
        "US: [hard, soft]",
        "US: [hard, 2soft]",
        "games[0].strategies.US[1]",
        "'2soft' is not a valid name",
        "US: [hard",
    ),
    (
        "      UA: [sign, hold]\n",
        "",
        "games[0].strategies",
        "no strategies given for player 'UA'",
        "strategies:",
    ),
    (
        "when: {US: hard, UA: sign}",
        "when: {US: hardd, UA: sign}",
        "games[0].outcomes[0].when.US",
        "'hardd' is not a strategy of US (did you mean 'hard'?)",
        "hardd",
    ),
    (
        "when: {US: hard, UA: sign}",
        "when: {US: [soft, hardd], UA: sign}",
        "games[0].outcomes[0].when.US[1]",
        "'hardd' is not a strategy of US",
        "hardd",
    ),
    (
        "when: {UA: sign}",
        "when: {EU: sign}",
        "games[0].outcomes[1].when.EU",
        "'EU' is not a player of this game",
        "EU",
    ),
    (
        "when: {UA: sign}",
        "when: {UA: 3}",
        "games[0].outcomes[1].when.UA",
        'expected a strategy, "*" (any strategy) or a non-empty list',
        "when: {UA: 3}",
    ),
    (
        "deal: {share: 0.5}",
        "deal: {shares: 0.5}",
        "games[0].outcomes[0].deal.shares",
        "unknown issue 'shares' (did you mean 'share'?)",
        "shares",
    ),
    (
        "deal: {share: 0.5}",
        "deal: {share: 1.5}",
        "games[0].outcomes[0].deal.share",
        "deal value 1.5 for 'share' is outside its range [0, 1]",
        "1.5",
    ),
    (
        "deal: {share: 0.5}",
        'deal: {share: "cost * 5"}',
        "games[0].outcomes[0].deal.share",
        "deal value 1.5 for 'share' is outside its range [0, 1]",
        "cost * 5",
    ),
    (
        "guarantee: 1}",
        "guarantee: 0.7}",
        "games[0].outcomes[1].deal.guarantee",
        "outside its values [0, 0.5, 1]",
        "0.7",
    ),
    (
        "deal: {share: 0.5}",
        'deal: {share: "guarantee / 2"}',
        "games[0].outcomes[0].deal.share",
        "uses issue 'guarantee' (column 1); only the actors' utilities",
        "guarantee / 2",
    ),
    (
        "deal: {share: 0.5}",
        'deal: {share: "cots / 2"}',
        "games[0].outcomes[0].deal.share",
        "unknown name 'cots' (column 1; did you mean 'cost'?)",
        "cots",
    ),
    (
        "deal: {share: 0.5}",
        'deal: {share: "cost +"}',
        "games[0].outcomes[0].deal.share",
        "unexpected end of expression; expected a number, name or '(' (column 7)",
        "cost +",
    ),
    (
        "deal: {share: 0.5}",
        "deal: {share: 0.5}\n        no_deal: true",
        "games[0].outcomes[0]",
        "exactly one of `deal`, `payoffs` and `no_deal: true` (this one has deal and no_deal)",
        "when: {US: hard",
    ),
    (
        "        no_deal: true\n",
        "",
        "games[0].outcomes[2]",
        "a rule needs exactly one of",
        "when: {}",
    ),
    (
        "no_deal: true",
        "no_deal: yes",
        "games[0].outcomes[2].no_deal",
        "expected true or false, got the text 'yes'",
        "no_deal",
    ),
    (
        "    status_quo: 0\npayoffs",
        "payoffs",
        "games[0].outcomes[0].deal",
        "issue 'guarantee' is not set by this deal and has no status_quo",
        "deal: {share: 0.5}",
    ),
    (
        "    status_quo: 0\npayoffs",
        "payoffs",
        "games[0].outcomes[2].no_deal",
        "no_deal puts every issue at its status_quo, but issue 'guarantee' has none",
        "no_deal",
    ),
    (
        "      - when: {}\n        no_deal: true\n",
        "",
        "games[0].outcomes",
        "profile (US: hard, UA: hold) is not covered by any rule (2 of 4 profiles uncovered)",
        "outcomes:",
    ),
    (
        'UA: "guarantee - share"',
        'UA: "guarantee ^ share"',
        "payoffs.UA",
        "'^' is not allowed; write powers as ** (column 11)",
        'UA: "guarantee ^',
    ),
    (
        'UA: "guarantee - share"',
        'UA: "guarantee - shar"',
        "payoffs.UA",
        "unknown name 'shar' (column 13; did you mean 'share'?)",
        'shar"',
    ),
    (
        'UA: "guarantee - share"',
        'UA: "guarantee.real"',
        "payoffs.UA",
        "attribute access",
        "guarantee.real",
    ),
    (
        '  UA: "guarantee - share"\n',
        "",
        "games[0].outcomes[0].deal",
        "player 'UA' has no utility under `payoffs:`",
        "deal: {share: 0.5}",
    ),
    (
        '  UA: "guarantee - share"\n',
        '  UA: "guarantee - share"\n  EU: "1"\n',
        "payoffs.EU",
        "'EU' is not an actor",
        'EU: "1"',
    ),
    (
        "payoffs:\n",
        "payoffs: [1, 2]\nunused:\n",
        "payoffs",
        "expected a mapping (key: value lines), got a list",
        "payoffs:",
    ),
    ("    assumption: true\n", "", "parameters.cost", "needs `source:`", "cost:"),
    (
        "    range: [0, 1]\n",
        "    range: [0, 1]\n    values: [0, 1]\n",
        "issues.share",
        "exactly one of `range: [lo, hi]` and `values: [...]`, not both",
        "share:",
    ),
    ("range: [0, 1]", "range: [1, 0]", "issues.share.range", "lo < hi", "range:"),
    ("range: [0, 1]", "range: [0, 1, 2]", "issues.share.range", "two numbers", "range:"),
    (
        "values: [0, 0.5, 1]",
        "values: [0, 0.5, 0]",
        "issues.guarantee.values[2]",
        "listed twice",
        "values",
    ),
    (
        "    status_quo: 0\n",
        "    status_quo: 2\n",
        "issues.share.status_quo",
        "outside the issue's range",
        "status_quo: 2",
    ),
    ("  cost:\n", "  log:\n", "parameters.log", "'log' cannot be used as a name", "log:"),
    (
        "parameters:\n",
        "parameters:\n  share: {value: 1, assumption: true}\n",
        "issues.share",
        "issue 'share' has the same name as a parameter",
        "  share:\n",
    ),
    (
        "        no_deal: true\n",
        "        no_deal: true\n  - name: g\n    kind: strategic\n    players: [US, UA]\n"
        "    strategies: {US: [a], UA: [b]}\n    table: [[[1, 2]]]\n",
        "games[1].name",
        "duplicate game name 'g' (also games[0])",
        "  - name: g\n    kind: strategic\n    players: [US, UA]\n    strategies: {US: [a]",
    ),
    (
        "    outcomes:\n",
        "    table: [[[1, 2]]]\n    outcomes:\n",
        "games[0]",
        "exactly one of `outcomes` and `table`, not both",
        "- name: g",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "marker"), MISTAKES, ids=[m[2] for m in MISTAKES]
)
def test_mistake_is_reported_at_its_line_and_field(
    old: str, new: str, field: str, fragment: str, marker: str
) -> None:
    text = edit(BASE, old, new)
    problems = problems_of(text)
    matching = [p for p in problems if p.field == field and fragment in p.message]
    assert matching, "\n".join(str(p) for p in problems)
    expected_line = _marker_line(text, marker)
    assert matching[0].line == expected_line, str(matching[0])
    assert matching[0].file == "test.yaml"


def _marker_line(text: str, marker: str) -> int:
    # A multi-line marker names the line where it starts.
    index = text.index(marker)
    return text.count("\n", 0, index) + 1 + (1 if marker.startswith("\n") else 0)


TABLE_MISTAKES = [
    (
        "[[1, 2], [3, 4], [5, 6]]",
        "[[1, 2], [3, 4]]",
        "games[0].table[0]",
        "this list has 2 entries; expected 3 entries, one per strategy of B (l, m, r)",
        "[[1, 2], [3, 4]]",
    ),
    (
        "[[1, 2], [3, 4], [5, 6]]",
        "[[1, 2], [3, 4], [5, 6, 0]]",
        "games[0].table[0][2]",
        "this list has 3 entries; expected 2 payoffs, one per player (A, B)",
        "[5, 6, 0]",
    ),
    (
        '      - [[7, 8], [9, 10], [11, "p * 2"]]\n',
        "",
        "games[0].table",
        "this list has 1 entry; expected 2 entries, one per strategy of A (x, y)",
        "table:",
    ),
    (
        "[5, 6]",
        "[5, [6]]",
        "games[0].table[0][2][1]",
        "expected a payoff: a number or an expression of parameters",
        "[5, [6]]",
    ),
    ("[5, 6]", "5", "games[0].table[0][2]", "expected a list of 2 payoffs", "[[1, 2], [3, 4], 5]"),
    ('"p * 2"', '"q * 2"', "games[0].table[1][2][1]", "unknown name 'q'", "q * 2"),
    ('"p * 2"', '"i * 2"', "games[0].table[1][2][1]", "uses issue 'i'", "i * 2"),
    ('"p * 2"', '"log(p - 3)"', "games[0].table[1][2][1]", "is not finite", "log(p - 3)"),
    (
        "    table:\n",
        "    tabel: 1\n    table:\n",
        "games[0].tabel",
        "unknown field 'tabel' (did you mean 'table'?)",
        "tabel",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "marker"),
    TABLE_MISTAKES,
    ids=[f"{m[2]}-{k}" for k, m in enumerate(TABLE_MISTAKES)],
)
def test_table_mistake_is_reported_at_its_line_and_field(
    old: str, new: str, field: str, fragment: str, marker: str
) -> None:
    text = edit(TABLE, old, new)
    problems = problems_of(text)
    matching = [p for p in problems if p.field == field and fragment in p.message]
    assert matching, "\n".join(str(p) for p in problems)
    assert matching[0].line == _marker_line(text, marker), str(matching[0])


def test_payoffs_rule_must_name_every_player_and_only_players() -> None:
    text = edit(BASE, "        no_deal: true", "        payoffs: {US: 1, EU: 2}")
    problems = problems_of(text)
    fields = {(p.field, p.message.split(";")[0]) for p in problems}
    assert ("games[0].outcomes[2].payoffs.EU", "'EU' is not a player of this game") in fields
    assert ("games[0].outcomes[2].payoffs", "missing payoff for UA") in fields


# ------------------------------------------------------- several at once


def test_every_mistake_in_a_file_is_reported() -> None:
    path = DATA / "many_mistakes.yaml"
    problems = validate_file(path)
    text = path.read_text()
    marked = {n for n, line in enumerate(text.splitlines(), 1) if "# mistake" in line}
    # The sourceless parameter's mistake is reported at its name, one line above its marker.
    marked = {n - 1 if "no source" in text.splitlines()[n - 1] else n for n in marked}
    assert marked <= {p.line for p in problems}, "\n".join(str(p) for p in problems)
    assert all(p.file == str(path) for p in problems)
    lines = [p.line for p in problems]
    assert lines == sorted(lines), "problems are listed in file order"


def test_load_scenario_raises_with_all_problems() -> None:
    with pytest.raises(InputError) as info:
        load_scenario(DATA / "many_mistakes.yaml")
    assert len(info.value.problems) >= 12
    assert "many_mistakes.yaml:10: parameters.cost.value" in str(info.value)


# ------------------------------------------------------------- YAML level


def test_unsafe_tags_are_rejected_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = edit(
        BASE,
        "name: Test",
        f"name: !!python/object/apply:os.system ['touch {marker}']",
    )
    problems = problems_of(text)
    assert not marker.exists()
    assert any(
        p.field == "name"
        and p.line == 1
        and "unsupported YAML tag '!!python/object/apply:os.system'" in p.message
        for p in problems
    ), problems
    # The value the tag spoilt is not reported a second time as "expected text".
    assert not any(p.field == "name" and "expected text" in p.message for p in problems)


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/new:os.system ['true']",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!custom 1",
        "!!timestamp 2025-01-01",
    ],
)
def test_every_non_data_tag_is_rejected(tagged: str) -> None:
    problems = problems_of(edit(BASE, "question: Does it work?", f"question: {tagged}"))
    assert any(p.field == "question" and "unsupported YAML tag" in p.message for p in problems)


def test_duplicate_keys_are_errors() -> None:
    text = edit(BASE, "  UA: Ukraine\n", "  UA: Ukraine\n  US: Uruguay\n")
    problems = problems_of(text)
    [dup] = [p for p in problems if "duplicate key" in p.message]
    assert dup.field == "actors.US"
    assert dup.line == line_containing(text, "Uruguay")
    assert "first given on line 4" in dup.message


def test_non_text_keys_are_errors() -> None:
    text = edit(BASE, "  UA: Ukraine\n", "  UA: Ukraine\n  1: One\n  true: T\n")
    problems = problems_of(text)
    keys = [p for p in problems if "a key must be a name" in p.message]
    assert [p.line for p in keys] == [
        line_containing(text, "1: One"),
        line_containing(text, "true: T"),
    ]
    assert all(p.field == "actors" for p in keys)
    assert "quote it" in keys[0].message


def test_yaml_syntax_error_has_a_line() -> None:
    text = edit(BASE, "actors:", "actors: [unclosed")
    [problem] = problems_of(text)
    assert problem.line is not None and problem.line >= 3
    assert "not valid YAML" in problem.message


def test_several_documents_are_an_error() -> None:
    [problem] = problems_of(BASE + "---\nname: other\n")
    assert "single document" in problem.message


def test_recursive_alias_is_an_error() -> None:
    text = edit(BASE, "question: Does it work?", "question: Does it work?\nsources: &s [*s]")
    [problem] = [p for p in problems_of(text) if "alias" in p.message]
    assert problem.field == "sources[0]"


def test_exploding_aliases_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Billion laughs": each level refers to the previous one ten times.
    monkeypatch.setattr(yaml_source, "MAX_NODES", 10_000)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join([f'*{chr(97 + k)}'] * 10)}]\n" for k in range(8)
    )
    problems = problems_of(laughs)
    assert sum("document too large" in p.message for p in problems) == 1


def test_merge_keys_are_reported() -> None:
    text = edit(BASE, "  UA: Ukraine\n", "  UA: Ukraine\n  <<: {EU: Europe}\n")
    assert any("merge keys" in p.message for p in problems_of(text))


def test_empty_and_non_mapping_files() -> None:
    [empty] = problems_of("")
    assert "empty" in empty.message
    [listing] = problems_of("- a\n- b\n")
    assert "at the top level, got a list" in listing.message


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    [missing] = validate_file(tmp_path / "nope.yaml")
    assert missing.message == "no such file"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: a\n\xff\xfe")
    [bad] = validate_file(binary)
    assert "not UTF-8" in bad.message
    assert bad.line == 2
    with pytest.raises(InputError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")


def test_problem_lines_point_into_flow_and_block_styles() -> None:
    text = edit(
        BASE,
        "      - when: {US: hard, UA: sign}\n        deal: {share: 0.5}\n",
        "      - when:\n          US: hard\n          UA: sign\n        deal:\n"
        "          share: 0.5\n          shaer: 0.1\n",
    )
    problems = problems_of(text)
    [unknown] = [p for p in problems if "unknown issue" in p.message]
    assert unknown.line == line_containing(text, "shaer")


# ------------------------------------------------------------------ schema


def test_checked_in_schema_is_the_generated_one() -> None:
    checked_in = (REPO / "docs" / "scenario.schema.json").read_text(encoding="utf-8")
    assert checked_in == schema_text(), (
        "docs/scenario.schema.json is stale: run "
        "`python -m simulator.scenario.schema > docs/scenario.schema.json`"
    )


def test_schema_documents_every_field() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                assert "description" in prop, f"{where}.{name} has no description"
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for k, item in enumerate(node):
                walk(item, f"{where}[{k}]")

    walk(schema, "schema")
    assert json.loads(json.dumps(schema)) == schema
    assert schema["additionalProperties"] is False
    kinds = schema["properties"]["games"]["items"]["discriminator"]["mapping"]
    assert set(kinds) == {"strategic", "bargaining", "coalition", "sequential"}


def test_complete_example_in_the_docs_is_valid() -> None:
    doc = (REPO / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = doc.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario_text(example, source="docs/scenario-format.md")
    assert scenario.game_names == ("one_shot", "prisoners_dilemma")
