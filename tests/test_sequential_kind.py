"""Game trees in scenario files (kind ``sequential``): format, errors, building, scenarios."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import InputError, Problem
from simulator.extensive.tree import ExtensiveGame
from simulator.kinds import KINDS, load_kind
from simulator.kinds.sequential import MAX_TREE_NODES, SequentialGameSpec
from simulator.scenario import Scenario, build_any_game, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
TREES = SCENARIOS / "textbook_trees.yaml"
MINERALS = SCENARIOS / "minerals_sequential.yaml"

HEADER = """\
name: T
question: q
actors: {A: Alice, B: Bob, C: Carol}
parameters:
  p: {value: 0.25, assumption: true}
  bonus: {value: 2, assumption: true}
issues:
  share: {range: [0, 1], unit: u, description: d, status_quo: 0.1}
  level: {values: [0, 0.5, 1], unit: u, description: d, status_quo: 0}
deals:
  half: {share: 0.5}
payoffs:
  A: "share + bonus * level"
  B: "1 - share"
games:
"""

# A valid tree using every form: decisions, a chance move with a parameter, an
# information set across the chance move, deals (written, named, none), fixed
# payoffs and a reference used twice.
BASE = (
    HEADER
    + """\
  - name: g
    kind: sequential
    players: [A, B]
    nodes:
      walk_away: {payoffs: {A: 0, B: "bonus - 3"}}
    tree:
      player: A
      label: first
      actions:
        early: {ref: walk_away}
        wait:
          label: nature
          chance:
            good:
              probability: p
              then:
                player: B
                infoset: blind
                actions:
                  take: {deal: {share: 0.8, level: 1}}
                  leave: {ref: walk_away}
            bad:
              probability: "1 - p"
              then:
                player: B
                infoset: blind
                actions:
                  take: {deal: half}
                  leave: {no_deal: true}
"""
)


def scenario_of(text: str) -> Scenario:
    return load_scenario_text(text, source="test.yaml")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_scenario_text(text, source="test.yaml")
    return list(info.value.problems)


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def line_of(text: str, marker: str) -> int:
    index = text.index(marker)
    return text.count("\n", 0, index) + 1


def built(text: str, **parameters: float) -> ExtensiveGame:
    game = build_any_game(scenario_of(text), "g", parameters=parameters or None)
    assert isinstance(game, ExtensiveGame)
    return game


# --------------------------------------------------------------- the format


def test_the_kind_is_registered() -> None:
    assert KINDS["sequential"] == "simulator.kinds.sequential"
    assert load_kind("sequential").Spec is SequentialGameSpec


def test_base_tree_builds_with_every_form() -> None:
    scenario = scenario_of(BASE)
    spec = scenario.game("g")
    assert isinstance(spec, SequentialGameSpec)
    game = built(BASE)
    assert game.players == ("A", "B")
    assert game.title == "g"
    # root, early (copy), chance, two B nodes, two terminals under each.
    assert len(game.nodes) == 9
    assert len(game.terminals) == 5
    root = game.root
    assert root.label == "first"
    assert game.action_label(root, 0) == "early" and game.action_label(root, 1) == "wait"
    (chance,) = game.chance_infosets
    assert chance.label == "nature" and chance.actions == ("good", "bad")
    assert chance.probabilities == (0.25, 0.75)
    (blind,) = [h for h in game.infosets if h.label == "blind"]
    assert game.players[blind.player] == "B" and len(blind.nodes) == 2
    assert blind.actions == ("take", "leave")
    assert not game.is_perfect_information and game.has_perfect_recall


def test_deal_payoffs_are_the_utilities_at_the_terms() -> None:
    scenario = scenario_of(BASE)
    game = built(BASE)
    values = scenario.parameter_values()
    outcomes = {}
    for t, row in zip(game.terminals, game.terminal_payoffs, strict=True):
        node = game.nodes[t]
        outcomes[node.outcome] = node
        if not node.outcome:  # fixed payoffs
            assert node.deal == {}
            assert row.tolist() == [0.0, values["bonus"] - 3]
            continue
        # Every issue at its deal value or its status quo (no deal: all at status quo).
        terms = dict(node.deal) or {name: i.status_quo for name, i in scenario.issues.items()}
        assert set(terms) == set(scenario.issues)
        for i, player in enumerate(game.players):
            expected = float(scenario.utility(player).evaluate({**values, **terms}))
            assert row[i] == pytest.approx(expected, abs=1e-15)
    assert set(outcomes) == {"", "deal", "half", "no_deal"}
    assert dict(outcomes["deal"].deal) == {"share": 0.8, "level": 1.0}
    assert dict(outcomes["half"].deal) == {"share": 0.5, "level": 0.0}
    assert outcomes["no_deal"].deal == {}


def test_references_make_copies() -> None:
    game = built(BASE)
    fixed = [t for t in game.terminals if game.nodes[t].outcome == ""]
    assert len(fixed) == 2  # walk_away, used twice, is two nodes
    assert len({game.nodes[t].parent for t in fixed}) == 2


def test_copies_of_a_decision_are_separate_sets_unless_named() -> None:
    tree = """\
  - name: g
    kind: sequential
    players: [A, B]
    nodes:
      answer:
        player: B
        INFOSET
        actions:
          yes: {payoffs: {A: 1, B: 1}}
          no: {payoffs: {A: 0, B: 0}}
    tree:
      player: A
      actions:
        x: {ref: answer}
        y: {ref: answer}
        z: {ref: answer}
"""
    separate = built(HEADER + tree.replace("        INFOSET\n", ""))
    b = separate.player_index("B")
    assert [len(h.nodes) for h in separate.player_infosets(b)] == [1, 1, 1]
    assert [h.name for h in separate.player_infosets(b)] == ["1", "2", "3"]
    assert separate.is_perfect_information
    shared = built(HEADER + tree.replace("INFOSET", "infoset: unseen"))
    (h,) = shared.player_infosets(b)
    assert h.name == "unseen" and len(h.nodes) == 3
    assert len(shared.nodes) == len(separate.nodes) == 10


def test_references_nest_and_the_game_stays_a_tree() -> None:
    text = (
        HEADER
        + """\
  - name: g
    kind: sequential
    players: [A, B]
    nodes:
      leaf: {payoffs: {A: 1, B: 2}}
      pair: {player: B, actions: {l: {ref: leaf}, r: {ref: leaf}}}
      quad: {player: A, actions: {l: {ref: pair}, r: {ref: pair}}}
    tree: {ref: quad}
"""
    )
    game = built(text)
    assert len(game.terminals) == 4 and len(game.nodes) == 7
    assert sorted(n.parent for n in game.nodes if n.parent is not None) == [0, 0, 1, 1, 4, 4]


def test_exact_numbers_are_kept_and_parameters_are_floats() -> None:
    text = edit(BASE, "probability: p\n", 'probability: "1/3"\n')
    text = edit(text, 'probability: "1 - p"', 'probability: "2/3"')
    game = built(text)
    (chance,) = game.chance_infosets
    assert chance.exact_probabilities == (Fraction(1, 3), Fraction(2, 3))
    assert built(BASE).chance_infosets[0].exact_probabilities is None
    # Fixed payoffs only: exact fractions; with deals, floats.
    fixed = edit(
        text, "take: {deal: {share: 0.8, level: 1}}", 'take: {payoffs: {A: "1/3", B: 0.1}}'
    )
    fixed = edit(fixed, "take: {deal: half}", "take: {payoffs: {A: 1, B: 2}}")
    fixed = edit(fixed, "leave: {no_deal: true}", "leave: {payoffs: {A: 3, B: 4}}")
    fixed = edit(fixed, '"bonus - 3"', "-1")
    exact = built(fixed).exact_terminal_payoffs
    assert exact is not None
    assert (Fraction(1, 3), Fraction(1, 10)) in exact
    assert built(BASE).exact_terminal_payoffs is None


def test_parameters_move_probabilities_and_payoffs() -> None:
    game = built(BASE, p=0.6, bonus=5)
    assert game.chance_infosets[0].probabilities == pytest.approx((0.6, 0.4))
    fixed = [t for t in game.terminals if game.nodes[t].outcome == ""]
    assert all(game.nodes[t].payoffs == (0.0, 2.0) for t in fixed)
    (took,) = [t for t in game.terminals if game.nodes[t].outcome == "deal"]
    assert game.nodes[took].payoffs == pytest.approx((0.8 + 5 * 1, 0.2))


def test_probabilities_out_of_range_at_build_time_are_input_errors() -> None:
    scenario = scenario_of(BASE)
    with pytest.raises(InputError) as info:
        build_any_game(scenario, "g", parameters={"p": 1.5})
    (problem,) = info.value.problems
    assert problem.field == "games[0].tree.actions.wait.chance.bad.probability"
    assert problem.line == line_of(BASE, "bad:") + 1
    assert "probability -0.5 is negative" in problem.message


def test_probabilities_that_do_not_sum_to_one_at_build_time() -> None:
    text = edit(BASE, 'probability: "1 - p"', "probability: 0.75")
    scenario = scenario_of(text)  # 0.25 + 0.75 at the file's value
    with pytest.raises(InputError) as info:
        build_any_game(scenario, "g", parameters={"p": 0.5})
    (problem,) = info.value.problems
    assert problem.field == "games[0].tree.actions.wait.chance"
    assert problem.line == line_of(text, "chance:")
    assert "sum to 1.25 (0.5 + 0.75), not 1" in problem.message


# ------------------------------------------------------------------ errors

MISTAKES = [
    # (old, new, field, message fragment, marker of the expected line)
    (
        "                player: B\n                infoset: blind\n                actions:\n"
        "                  take: {deal: {share",
        "                player: D\n                infoset: blind\n                actions:\n"
        "                  take: {deal: {share",
        "games[0].tree.actions.wait.chance.good.then.player",
        "'D' is not a player of this game; players are: A, B",
        "player: D",
    ),
    (
        "leave: {no_deal: true}",
        "leave:",
        "games[0].tree.actions.wait.chance.bad.then.actions.leave",
        "action 'leave' has no child; give the node it leads to",
        "leave:\n",
    ),
    (
        '            bad:\n              probability: "1 - p"\n              then:',
        '            bad:\n              probability: "1 - p"\n            ugly:\n'
        "              probability: 0\n            worse:\n              then:",
        "games[0].tree.actions.wait.chance.worse.probability",
        "missing required field 'probability'",
        "worse:",
    ),
    (
        'probability: "1 - p"',
        "probability: 0.7",
        "games[0].tree.actions.wait.chance",
        "the probabilities sum to 0.95 (0.25 + 0.7), not 1",
        "chance:",
    ),
    (
        'probability: "1 - p"',
        'probability: "1 - 2 * p"',
        "games[0].tree.actions.wait.chance",
        "the probabilities sum to 0.75 (0.25 + 0.5), not 1",
        "chance:",
    ),
    (
        'probability: "1 - p"',
        "probability: -0.75",
        "games[0].tree.actions.wait.chance.bad.probability",
        "probability -0.75 is negative",
        "probability: -0.75",
    ),
    (
        'probability: "1 - p"',
        'probability: "1 - share"',
        "games[0].tree.actions.wait.chance.bad.probability",
        "uses issue 'share'",
        'probability: "1 - share"',
    ),
    (
        'probability: "1 - p"',
        'probability: "1 - q"',
        "games[0].tree.actions.wait.chance.bad.probability",
        "unknown name 'q'",
        '"1 - q"',
    ),
    (
        "early: {ref: walk_away}",
        "early: {ref: walk_awy}",
        "games[0].tree.actions.early.ref",
        "unknown node 'walk_awy' (did you mean 'walk_away'?); named nodes are: walk_away",
        "early:",
    ),
    (
        '      walk_away: {payoffs: {A: 0, B: "bonus - 3"}}\n',
        '      walk_away: {payoffs: {A: 0, B: "bonus - 3"}}\n      spare: {no_deal: true}\n',
        "games[0].nodes.spare",
        "node 'spare' is never used: no `ref: spare` is reachable from `tree:`",
        "spare:",
    ),
    (
        '      walk_away: {payoffs: {A: 0, B: "bonus - 3"}}\n',
        "      walk_away: {player: A, actions: {on: {ref: other}, off: {no_deal: true}}}\n"
        "      other: {player: B, actions: {back: {ref: walk_away}}}\n",
        "games[0].nodes.other.actions.back.ref",
        "reference cycle: walk_away -> other -> walk_away",
        "other: {",
    ),
    (
        '      walk_away: {payoffs: {A: 0, B: "bonus - 3"}}\n',
        "      walk_away: {player: A, actions: {again: {ref: walk_away}, stop: {no_deal: true}}}\n",
        "games[0].nodes.walk_away.actions.again.ref",
        "reference cycle: walk_away -> walk_away",
        "walk_away: {",
    ),
    (
        "take: {deal: half}\n",
        "take: {deal: half}\n                  take: {no_deal: true}\n",
        "games[0].tree.actions.wait.chance.bad.then.actions.take",
        "duplicate key 'take'",
        "take: {no_deal",
    ),
    (
        "take: {deal: half}\n                  leave: {no_deal: true}",
        "leave: {no_deal: true}\n                  take: {deal: half}",
        "games[0].tree.actions.wait.chance.bad.then.actions",
        "information set 'blind' has actions ['take', 'leave'] at another node",
        "actions:\n                  leave: {no_deal: true}\n",
    ),
    (
        "                  take: {deal: {share: 0.8, level: 1}}\n",
        "                  take: {player: B, infoset: blind, actions: "
        "{take: {no_deal: true}, leave: {no_deal: true}}}\n",
        "games[0].tree.actions.wait.chance.good.then.actions.take.infoset",
        "information set 'blind' contains this node and one before it on the same path",
        "take: {player: B",
    ),
    (
        "      label: first\n",
        "      label: first\n      infoset: blind\n",
        "games[0].tree.actions.wait.chance.good.then.infoset",
        "information set 'blind' is A's (at games[0].tree), not B's",
        "infoset: blind\n                actions:\n                  take: {deal: {share",
    ),
    (
        '{payoffs: {A: 0, B: "bonus - 3"}}',
        "{payoffs: {A: 0, C: 1}}",
        "games[0].nodes.walk_away.payoffs.C",
        "'C' is not a player of this game",
        "walk_away:",
    ),
    (
        '{payoffs: {A: 0, B: "bonus - 3"}}',
        "{payoffs: {A: 0}}",
        "games[0].nodes.walk_away.payoffs",
        "missing payoff for B",
        "walk_away:",
    ),
    (
        "take: {deal: {share: 0.8, level: 1}}",
        "take: {deal: {share: 1.8, level: 1}}",
        "games[0].tree.actions.wait.chance.good.then.actions.take.deal.share",
        "deal value 1.8 for 'share' is outside its range [0, 1]",
        "take: {deal: {share: 1.8",
    ),
    (
        "take: {deal: {share: 0.8, level: 1}}",
        "take: {deal: {shaer: 0.8}}",
        "games[0].tree.actions.wait.chance.good.then.actions.take.deal.shaer",
        "unknown issue 'shaer' (did you mean 'share'?)",
        "take: {deal: {shaer",
    ),
    (
        "take: {deal: half}",
        "take: {deal: halve}",
        "games[0].tree.actions.wait.chance.bad.then.actions.take.deal",
        "unknown deal 'halve' (did you mean 'half'?)",
        "take: {deal: halve}",
    ),
    (
        "    players: [A, B]\n",
        "    players: [A, C]\n",
        "games[0].tree.actions.wait.chance.good.then.actions.take.deal",
        "player 'C' has no utility under `payoffs:`",
        "take: {deal: {share: 0.8",
    ),
    (
        "take: {deal: half}",
        "take: {deal: half, payoffs: {A: 1, B: 1}}",
        "games[0].tree.actions.wait.chance.bad.then.actions.take",
        "exactly one of `actions` (a decision, with `player`), `chance`, `deal`, `payoffs`, "
        "`no_deal: true` and `ref` (this one has deal and payoffs)",
        "take: {deal: half, payoffs",
    ),
    (
        "      player: A\n      label: first\n",
        "      label: first\n",
        "games[0].tree",
        "a decision node (with `actions`) needs `player`",
        "tree:",
    ),
    (
        "early: {ref: walk_away}",
        "early: {ref: walk_away, label: x}",
        "games[0].tree.actions.early",
        "a reference stands for its named node",
        "early:",
    ),
    (
        "leave: {no_deal: true}",
        "leave: {no_dael: true}",
        "games[0].tree.actions.wait.chance.bad.then.actions.leave.no_dael",
        "unknown field 'no_dael' (did you mean 'no_deal'?); expected one of: label, player",
        "leave: {no_dael",
    ),
    (
        "take: {deal: half}",
        "take: {deal: [half]}",
        "games[0].tree.actions.wait.chance.bad.then.actions.take.deal",
        "expected a deal: issue -> value (a mapping) or the name of a deal",
        "take: {deal: [half]}",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "marker"),
    MISTAKES,
    ids=[f"{k}-{m[2].rsplit('.', 1)[-1]}" for k, m in enumerate(MISTAKES)],
)
def test_mistake_is_reported_at_its_line_and_field(
    old: str, new: str, field: str, fragment: str, marker: str
) -> None:
    text = edit(BASE, old, new)
    problems = problems_of(text)
    matching = [p for p in problems if p.field == field and fragment in p.message]
    assert matching, "\n".join(str(p) for p in problems)
    assert matching[0].line == line_of(text, marker), str(matching[0])
    assert matching[0].file == "test.yaml"


def test_exact_probabilities_that_sum_to_one_are_accepted() -> None:
    text = edit(BASE, "probability: p\n", 'probability: "1/3"\n')
    text = edit(text, 'probability: "1 - p"', 'probability: "2/3"')
    scenario_of(text)
    almost = edit(text, 'probability: "2/3"', "probability: 0.6666666666666666")
    assert "sum to" in problems_of(almost)[0].message


def test_every_tree_problem_is_reported_at_once() -> None:
    text = edit(BASE, 'probability: "1 - p"', "probability: 0.5")
    text = edit(text, "early: {ref: walk_away}", "early: {ref: nowhere}")
    text = edit(text, "leave: {no_deal: true}", "leave:")
    fields = {p.field for p in problems_of(text)}
    assert {
        "games[0].tree.actions.wait.chance",
        "games[0].tree.actions.early.ref",
        "games[0].tree.actions.wait.chance.bad.then.actions.leave",
    } <= fields


def test_a_problem_in_a_copy_names_the_reference_it_came_from() -> None:
    text = (
        HEADER
        + """\
  - name: g
    kind: sequential
    players: [A, B]
    nodes:
      answer: {player: B, infoset: h, actions: {yes: {no_deal: true}, no: }}
    tree:
      player: A
      actions:
        x: {ref: answer}
        y: {ref: answer}
"""
    )
    problems = problems_of(text)
    assert {p.field for p in problems} == {"games[0].nodes.answer.actions.no"}
    assert all(p.line == line_of(text, "answer: {") for p in problems)
    assert any(
        "(in the copy used by `ref` at games[0].tree.actions.x)" in p.message for p in problems
    )


def test_a_tree_too_large_once_copied_is_an_error() -> None:
    levels = 18  # 2**18 leaves: more than MAX_TREE_NODES
    assert 2**levels > MAX_TREE_NODES
    named = "\n".join(
        f"      n{k}: {{player: A, actions: {{l: {{ref: n{k + 1}}}, r: {{ref: n{k + 1}}}}}}}"
        for k in range(levels)
    )
    text = (
        HEADER
        + f"""\
  - name: g
    kind: sequential
    players: [A, B]
    nodes:
{named}
      n{levels}: {{payoffs: {{A: 0, B: 0}}}}
    tree: {{ref: n0}}
"""
    )
    (problem,) = problems_of(text)
    assert problem.field == "games[0].tree"
    assert f"more than {MAX_TREE_NODES} nodes" in problem.message


def test_validate_on_the_command_line_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad_tree.yaml"
    text = edit(BASE, 'probability: "1 - p"', "probability: 0.7")
    bad.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    line = line_of(text, "chance:")
    assert f"{bad}:{line}: games[0].tree.actions.wait.chance: the probabilities sum" in done.stderr


# ------------------------------------------------------------------- docs


def _doc_example() -> tuple[str, str]:
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = doc.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    section = doc.split("### Kind `sequential`", 1)[1].split("## Named deals", 1)[0]
    game = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    errors = section.split("mistyped:\n\n```\n", 1)[1].split("```", 1)[0]
    return example + game, errors


def test_the_docs_example_tree_is_valid() -> None:
    text, _ = _doc_example()
    scenario = load_scenario_text(text, source="docs/scenario-format.md")
    game = build_any_game(scenario, "offer_in_turns")
    assert isinstance(game, ExtensiveGame)
    assert len(game.terminals) == 6
    (h,) = [h for h in game.infosets if h.label == "soft_offer"]
    assert len(h.nodes) == 2


def test_the_docs_error_example_is_what_validate_says() -> None:
    text, errors = _doc_example()
    text = edit(text, "probability: 0.3", "probability: 0.4")
    text = edit(text, "hold_out: {ref: walk_away}", "hold_out: {ref: walk_awy}")
    text = edit(
        text,
        "          player: UA\n          actions:\n            sign: {deal: {mineral_share: 0.5}}",
        "          player: UK\n          actions:\n            sign: {deal: {mineral_share: 0.5}}",
    )
    with pytest.raises(InputError) as info:
        load_scenario_text(text, source="scenarios/example.yaml")
    said = [f"error: {p}" for p in info.value.problems]
    assert said == errors.strip().splitlines()


# --------------------------------------------------------------- scenarios


def test_textbook_trees_have_their_known_structure() -> None:
    scenario = load_scenario(TREES)
    shapes = {}
    for name in scenario.game_names:
        game = build_any_game(scenario, name)
        assert isinstance(game, ExtensiveGame)
        assert game.exact_terminal_payoffs is not None  # integer payoffs: exact
        assert game.has_perfect_recall
        shapes[name] = (len(game.terminals), game.is_perfect_information, game.has_chance)
    assert shapes == {
        "centipede": (7, True, False),
        "entry_deterrence": (3, True, False),
        "beer_quiche": (8, False, True),
    }


def test_centipede_payoffs_double_and_the_taker_gets_four_times_the_other() -> None:
    game = build_any_game(load_scenario(TREES), "centipede")
    assert isinstance(game, ExtensiveGame)
    pay = game.terminal_payoffs
    totals = pay.sum(axis=1)
    np.testing.assert_array_equal(totals[1:], 2 * totals[:-1])
    for stage, (t, row) in enumerate(zip(game.terminals[:-1], pay[:-1], strict=True)):
        taker = game.player_index(game.mover(game.nodes[t].parent))  # type: ignore[arg-type]
        assert taker == stage % 2
        assert row[taker] == 4 * row[1 - taker]


def test_beer_quiche_receiver_sees_the_breakfast_not_the_type() -> None:
    game = build_any_game(load_scenario(TREES), "beer_quiche")
    assert isinstance(game, ExtensiveGame)
    (chance,) = game.chance_infosets
    assert chance.exact_probabilities == (Fraction(9, 10), Fraction(1, 10))
    receiver = game.player_infosets(game.player_index("R"))
    assert {h.name: len(h.nodes) for h in receiver} == {"after_beer": 2, "after_quiche": 2}
    sender = game.player_infosets(game.player_index("S"))
    assert [len(h.nodes) for h in sender] == [1, 1]


def test_backward_induction_known_answers() -> None:
    from simulator.extensive.backward_induction import backward_induction

    scenario = load_scenario(TREES)
    expected = {
        "centipede": ([("P1", "take")], (4.0, 1.0)),
        "entry_deterrence": ([("E", "enter"), ("I", "accommodate")], (1.0, 1.0)),
    }
    for name, (path, payoffs) in expected.items():
        game = build_any_game(scenario, name)
        assert isinstance(game, ExtensiveGame)
        result = backward_induction(game)
        assert result.complete
        (eq,) = result.equilibria  # no ties: one subgame-perfect equilibrium
        assert [(m.mover, m.action) for m in eq.path] == path
        assert eq.payoffs == payoffs
        assert eq.max_regret <= game.tolerance.payoff
    centipede = build_any_game(scenario, "centipede")
    assert isinstance(centipede, ExtensiveGame)
    (eq,) = backward_induction(centipede).equilibria
    # Everyone takes at every node, reached or not.
    for h in centipede.infosets:
        assert eq.behavior[h.index][h.actions.index("take")] == 1.0


def test_entry_deterrence_threat_is_a_nash_but_not_a_subgame_perfect_equilibrium() -> None:
    from simulator.extensive.behavior import behavior_regrets, subgame_regrets

    game = build_any_game(load_scenario(TREES), "entry_deterrence")
    assert isinstance(game, ExtensiveGame)
    threat = [np.array([1.0, 0.0]), np.array([1.0, 0.0])]  # out; fight
    assert np.all(behavior_regrets(game, threat) <= game.tolerance.payoff)
    assert subgame_regrets(game, threat).max() > game.tolerance.payoff


def test_beer_quiche_equilibria_pool() -> None:
    from simulator.extensive.reduced_form import reduced_strategic_form
    from simulator.solvers import solve

    game = build_any_game(load_scenario(TREES), "beer_quiche")
    assert isinstance(game, ExtensiveGame)
    form = reduced_strategic_form(game)
    result = solve(form.strategic, "vertex-enumeration")
    assert result.equilibria
    s = game.player_index("S")
    sender_payoffs = set()
    for eq in result.equilibria:
        (plan,) = [k for k, p in enumerate(eq.strategies[s]) if p > 0]  # the sender is pure
        strong, weak = form.describe(s, plan).split(", ")
        assert strong.split(":")[1] == weak.split(":")[1]  # both types eat the same
        sender_payoffs.add(round(float(eq.payoffs[s]), 9))
    assert sender_payoffs == {2.9, 2.1}  # pooling on beer, pooling on quiche


def test_sequence_form_known_answers() -> None:
    """Every Nash equilibrium of the centipede has P1 take at once; entry's are
    (enter, accommodate) or out against a threat to fight with probability
    >= 1/2; beer-quiche's pool, with a duel after the other breakfast >= 1/2."""
    from simulator.extensive.sequence_form import sequence_form_lemke

    scenario = load_scenario(TREES)
    games = {name: build_any_game(scenario, name) for name in scenario.game_names}
    for name, game in games.items():
        assert isinstance(game, ExtensiveGame)
        result = sequence_form_lemke(game, restarts=3)
        assert result.equilibria, name
        for eq in result.equilibria:
            assert eq.max_regret <= game.tolerance.payoff
            b = game.behavior_by_player(eq.behavior)
            if name == "centipede":
                assert [(m.mover, m.action, m.probability) for m in eq.path] == [
                    ("P1", "take", 1.0)
                ]
            elif name == "entry_deterrence":
                if b["E"]["1"]["enter"] == 1.0:
                    assert b["I"]["1"]["accommodate"] == 1.0
                else:
                    assert b["E"]["1"]["out"] == 1.0 and b["I"]["1"]["fight"] >= 0.5
            else:
                (strong, weak) = b["S"].values()
                assert strong == weak and max(strong.values()) == 1.0
                food = max(strong, key=strong.__getitem__)
                other = "quiche" if food == "beer" else "beer"
                assert b["R"][f"after_{food}"]["no_duel"] == 1.0
                assert b["R"][f"after_{other}"]["duel"] >= 0.5 - 1e-12


def test_minerals_sequential_is_small_grounded_and_has_chance_and_an_information_set() -> None:
    scenario = load_scenario(MINERALS)
    assert scenario.question and scenario.sources
    for name, parameter in scenario.parameters.items():
        assert parameter.source or parameter.assumption, name
    (name,) = scenario.game_names
    game = build_any_game(scenario, name)
    assert isinstance(game, ExtensiveGame)
    assert set(game.players) == {"US", "UA", "RU", "EU"}
    assert len(game.terminals) <= 25
    assert game.has_chance and not game.is_perfect_information and game.has_perfect_recall
    assert any(len(h.nodes) > 1 for h in game.infosets if h.player == game.player_index("UA"))
    # Every terminal's payoffs are the actors' utilities at its deal.
    values = scenario.parameter_values()
    status_quo = {n: i.status_quo for n, i in scenario.issues.items()}
    for t, row in zip(game.terminals, game.terminal_payoffs, strict=True):
        terms = dict(game.nodes[t].deal) or status_quo
        for i, player in enumerate(game.players):
            expected = float(scenario.utility(player).evaluate({**values, **terms}))
            assert row[i] == pytest.approx(expected, abs=1e-12)


def _minerals_profile(game: ExtensiveGame, ua_first: str) -> list[np.ndarray]:
    """US demands half; Ukraine answers ``ua_first`` to it and signs softer terms;
    Russia offers; Ukraine turns to the EU late; the EU steps in everywhere."""
    choice = {"US": "demand_half", "RU": "offer_aluminium", "EU": "step_in"}
    out = []
    for h in game.infosets:
        if h.player is None:
            out.append(np.array(h.probabilities))
            continue
        player = game.players[h.player]
        if player == "UA":
            if h.actions == ("sign", "hold_out"):
                node = game.nodes[h.nodes[0]]
                half = game.action_label(node.parent, node.parent_action) == "demand_half"  # type: ignore[arg-type]
                action = ua_first if half else "sign"
            else:
                action = "turn_to_eu"
        else:
            action = choice[player]
        out.append(np.array([float(a == action) for a in h.actions]))
    return out


@pytest.mark.parametrize(("ceasefire", "ua_answer"), [(0.5, "sign"), (0.7, "hold_out")])
def test_minerals_sequential_answer_turns_on_the_ceasefire(
    ceasefire: float, ua_answer: str
) -> None:
    """The file's comment: the US keeps its demand for half; Ukraine signs when a
    ceasefire is unlikely and holds out when it is likely (above 0.6)."""
    from simulator.extensive.behavior import subgame_regrets

    scenario = load_scenario(MINERALS)
    game = build_any_game(scenario, 0, parameters={"ceasefire_holds": ceasefire})
    assert isinstance(game, ExtensiveGame)
    tol = game.tolerance.payoff
    assert subgame_regrets(game, _minerals_profile(game, ua_answer)).max() <= tol
    other = "hold_out" if ua_answer == "sign" else "sign"
    assert subgame_regrets(game, _minerals_profile(game, other)).max() > tol
