"""Scenario kinds ``bargaining`` and ``coalition``: known answers through the file format,
and every mistake reported with its line and field."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from simulator.analysis import BargainingAnalysis, CoalitionAnalysis, analyze_other
from simulator.bargaining.game import BargainingGame
from simulator.coalition.game import CoalitionGame
from simulator.errors import InputError
from simulator.kinds.bargaining import linear_constraint
from simulator.scenario import build_any_game, build_game, load_scenario_text, validate_file

HEAD = """\
name: split
question: how is a unit surplus split?
actors: {A: Alice, B: Bob, C: Carol}
parameters:
  dA: {value: 0.1, source: test}
  dB: {value: 0.2, source: test}
  dC: {value: 0.0, source: test}
issues:
  sA: {range: [0, 1], unit: share, description: A's share, status_quo: 0}
  sB: {range: [0, 1], unit: share, description: B's share, status_quo: 0}
  sC: {range: [0, 1], unit: share, description: C's share, status_quo: 0}
payoffs:
  A: sA
  B: sB
  C: sC
"""


def scenario(games: str, head: str = HEAD) -> str:
    return head + "games:\n" + textwrap.indent(textwrap.dedent(games), "  ")


def load(games: str, head: str = HEAD):  # type: ignore[no-untyped-def]
    return load_scenario_text(scenario(games, head), source="test.yaml")


def problems(games: str, head: str = HEAD) -> list[str]:
    with pytest.raises(InputError) as info:
        load(games, head)
    return [str(p) for p in info.value.problems]


SPLIT = """\
- name: split
  kind: bargaining
  players: [A, B, C]
  constraints: ["sA + sB + sC <= 1"]
  disagreement: {A: dA, B: dB, C: dC}
"""


def solve(text: str, name: str = "split", head: str = HEAD) -> BargainingAnalysis:
    sc = load(text, head)
    game = build_any_game(sc, name)
    assert isinstance(game, BargainingGame)
    result = analyze_other(game, name)
    assert isinstance(result, BargainingAnalysis)
    return result


# ------------------------------------------------------------- known answers
def test_unit_surplus_nash_gives_d_plus_equal_share_of_the_rest() -> None:
    ba = solve(SPLIT)
    d = np.array([0.1, 0.2, 0.0])
    nash = ba.result.solution("nash_bargaining")
    assert nash is not None and nash.deal is not None
    np.testing.assert_allclose(nash.payoffs, d + (1 - d.sum()) / 3, atol=1e-6)
    assert ba.result.zone.exists
    assert {s.concept for s in ba.result.solutions} == {
        "nash_bargaining",
        "kalai_smorodinsky",
        "egalitarian",
        "utilitarian",
    }
    assert all(c.passed for c in ba.result.checks)


def test_weights_give_shares_proportional_to_bargaining_power() -> None:
    text = SPLIT.replace("disagreement: {A: dA, B: dB, C: dC}", "disagreement: 0") + (
        "  weights: {A: 1, B: 2, C: 3}\n  solutions: [nash_bargaining]\n"
    )
    nash = solve(text).result.solution("nash_bargaining")
    assert nash is not None
    np.testing.assert_allclose(nash.payoffs, [1 / 6, 2 / 6, 3 / 6], atol=1e-6)


def test_rubinstein_through_the_scenario_matches_the_closed_form() -> None:
    text = """\
    - name: two
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      constraints: ["sA + sB <= 1"]
      disagreement: 0
      discount: {A: 0.9, B: 0.8}
      proposer: B
      solutions: [rubinstein]
    """
    rub = solve(text, "two").result.solution("rubinstein")
    assert rub is not None
    d1, d2 = 0.9, 0.8
    # B proposes first: B gets (1 - d_A) / (1 - d_A d_B).
    assert rub.payoffs[1] == pytest.approx((1 - d1) / (1 - d1 * d2), abs=1e-6)


def test_disagreement_forms_number_expression_named_deal_and_outside_option() -> None:
    head = HEAD + "deals:\n  fallback: {sA: 0.3}\n"
    text = """\
    - name: offer
      kind: strategic
      players: [A, B]
      strategies: {A: [x, y], B: [z]}
      table: [[[0.25, 0]], [[0.05, 0]]]
    - name: split
      kind: bargaining
      players: [A, B, C]
      constraints: ["sA + sB + sC == 1"]
      disagreement:
        A: {outside_option: offer}
        B: "dB / 2"
        C: {deal: no_deal}
    - name: other
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      constraints: ["sA + sB <= 1"]
      disagreement: {A: fallback, B: {value: 0.1}}
    """
    sc = load(text, head)
    split = build_any_game(sc, "split")
    assert isinstance(split, BargainingGame)
    np.testing.assert_allclose(split.problem.disagreement, [0.25, 0.1, 0.0])
    assert split.disagreement_sources[0].startswith("outside option")
    # An equality constraint is two rows.
    assert split.problem.A_ub is not None and split.problem.A_ub.shape == (2, 3)
    other = build_any_game(sc, "other")
    assert isinstance(other, BargainingGame)
    np.testing.assert_allclose(other.problem.disagreement, [0.3, 0.1])
    assert other.disagreement_sources == ("deal fallback", "given")
    # Issues not bargained over stay fixed at their status quo.
    assert other.problem.lower[2] == other.problem.upper[2] == 0.0
    assert other.in_play == ("sA", "sB")


def test_outside_option_from_another_bargaining_game_is_its_nash_payoff() -> None:
    text = """\
    - name: first
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      constraints: ["sA + sB <= 1"]
      disagreement: 0
    - name: second
      kind: bargaining
      players: [A, C]
      issues: [sA, sC]
      constraints: ["sA + sC <= 1"]
      disagreement: {A: {outside_option: first}, C: 0}
    """
    sc = load(text)
    second = build_any_game(sc, "second")
    assert isinstance(second, BargainingGame)
    assert second.problem.disagreement[0] == pytest.approx(0.5, abs=1e-6)
    nash = analyze_other(second, "second").result.solution("nash_bargaining")  # type: ignore[union-attr]
    assert nash is not None
    np.testing.assert_allclose(nash.payoffs, [0.75, 0.25], atol=1e-6)


def test_no_deal_beats_disagreement_is_reported_with_the_blockers() -> None:
    text = SPLIT.replace(
        "disagreement: {A: dA, B: dB, C: dC}", "disagreement: {A: 0.5, B: 0.5, C: 0.2}"
    )
    ba = solve(text)
    assert not ba.result.zone.exists
    nash = ba.result.solution("nash_bargaining")
    assert nash is not None and not nash.agreement and nash.deal is None


def test_build_game_refuses_a_bargaining_game_with_a_clear_error() -> None:
    sc = load(SPLIT)
    with pytest.raises(InputError, match="bargaining game, not a strategic game"):
        build_game(sc, "split")


# ------------------------------------------------------------ linear constraints
@pytest.mark.parametrize(
    ("text", "rows", "rhs"),
    [
        ("a + 2 * b <= 3", [[1, 2]], [3]),
        ("a >= b - 1", [[-1, 1]], [1]),
        ("2 * (a + b) == k", [[2, 2], [-2, -2]], [2, -2]),
    ],
)
def test_linear_constraint_rows(text: str, rows: list[list[float]], rhs: list[float]) -> None:
    a, b = linear_constraint(text, ["a", "b"], {"k": 2.0})
    np.testing.assert_allclose(a, rows)
    np.testing.assert_allclose(b, rhs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a * b <= 1", "not linear"),
        ("a + b", "one comparison"),
        ("a <= b <= 1", "one comparison"),
        ("a + c <= 1", "unknown name 'c'"),
        ("k <= 1", "does not involve any issue"),
    ],
)
def test_linear_constraint_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        linear_constraint(text, ["a", "b"], {"k": 2.0})


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ("  issues: [sA, sX]\n", "games[0].issues[1]", "unknown issue 'sX'"),
        ("  fixed: {sA: 2}\n", "games[0].fixed.sA", "outside its range"),
        ("  constraints: ['sA * sB <= 1']\n", "games[0].constraints[0]", "not linear"),
        ("  weights: {A: 1, B: 0, C: 1}\n", "games[0].weights.B", "positive weight"),
        ("  discount: {A: 0.9, B: 1.0, C: 0.9}\n", "games[0].discount.B", "between 0 and 1"),
        ("  discount: {A: 0.9, B: 0.9}\n", "games[0].discount", "missing a discount factor for C"),
        ("  proposer: D\n", "games[0].proposer", "not a player"),
        ("  recognition: {A: 0.5, B: 0.6, C: 0}\n", "games[0].recognition", "sum to 1.1"),
        ("  quota: 4\n", "games[0].quota", "between 1 and 3"),
        ("  solutions: [rubinstein]\n", "games[0].solutions[0]", "needs `discount:`"),
        ("  solutions: [nash]\n", "games[0].solutions[0]", "nash_bargaining"),
    ],
)
def test_bargaining_errors_name_line_and_field(change: str, where: str, message: str) -> None:
    text = SPLIT
    key = change.split(":")[0].strip()
    if f"  {key}:" in text:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"  {key}:"))
        text += "\n"
    found = problems(text + change)
    assert any(where in p and message in p for p in found), found
    assert all(p.startswith("test.yaml:") for p in found)


def test_disagreement_errors() -> None:
    text = """\
    - name: split
      kind: bargaining
      players: [A, B, C]
      disagreement:
        A: {deal: nowhere}
        B: {outside_option: split}
        D: 0
    - name: circle1
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      disagreement: {A: {outside_option: circle2}, B: 0}
    - name: circle2
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      disagreement: {A: {outside_option: circle1}, B: 0}
    """
    found = problems(text)
    assert any("disagreement.A.deal" in p and "unknown deal 'nowhere'" in p for p in found)
    assert any(
        "disagreement.B.outside_option" in p and "its own outside option" in p for p in found
    )
    assert any("disagreement.D" in p and "not a player" in p for p in found)
    assert any("missing a disagreement payoff for C" in p for p in found)
    assert any("in a circle: circle1 -> circle2 -> circle1" in p for p in found)


def test_discrete_issue_cannot_be_bargained_over() -> None:
    head = HEAD.replace(
        "  sC: {range: [0, 1], unit: share, description: C's share, status_quo: 0}",
        "  sC: {values: [0, 1], unit: share, description: C's share, status_quo: 0}",
    )
    found = problems(
        SPLIT.replace("  kind: bargaining\n", "  kind: bargaining\n  issues: [sA, sC]\n"), head
    )
    assert any("games[0].issues[1]" in p and "takes listed values" in p for p in found), found


# --------------------------------------------------------------- coalition kind
GLOVES = """\
- name: gloves
  kind: coalition
  players: [A, B, C]
  values:
    "A+C": 1
    "B+C": 1
    "A+B+C": 1
  default: 0
"""


def test_glove_game_from_a_table() -> None:
    sc = load(GLOVES)
    game = build_any_game(sc, "gloves")
    assert isinstance(game, CoalitionGame)
    ca = analyze_other(game, "gloves")
    assert isinstance(ca, CoalitionAnalysis)
    by = {s.concept: s for s in ca.result.solutions}
    assert by["shapley"].payoffs is not None
    np.testing.assert_allclose(by["shapley"].payoffs, [1 / 6, 1 / 6, 2 / 3], atol=1e-12)
    assert by["core"].payoffs is not None
    # The glove game's core is the single point giving everything to the scarce glove.
    np.testing.assert_allclose(by["core"].payoffs, [0, 0, 1], atol=1e-9)
    np.testing.assert_allclose(by["nucleolus"].payoffs, [0, 0, 1], atol=1e-9)
    assert all(s.passed for s in ca.result.solutions)


@pytest.mark.parametrize(
    ("games", "where", "message"),
    [
        (GLOVES.replace('"A+C"', '"A+D"'), "games[0].values.A+D", "'D' is not a player"),
        (GLOVES.replace("  default: 0\n", ""), "games[0].values", "have no worth"),
        (GLOVES.replace('"B+C": 1', '"C+B": 1\n    "B + C": 2'), "games[0].values", "same as"),
        (
            GLOVES + "  deal_space: gloves\n",
            "games[0]",
            "exactly one of `values`",
        ),
    ],
)
def test_coalition_table_errors(games: str, where: str, message: str) -> None:
    found = problems(games)
    assert any(where in p and message in p for p in found), found


def test_derived_coalition_errors() -> None:
    text = (
        SPLIT
        + """\
- name: derived
  kind: coalition
  deal_space: split
  players: [A, C, B]
  needs: {sX: [A], sA: [D]}
- name: wrong_kind
  kind: coalition
  deal_space: derived
"""
    )
    found = problems(text)
    assert any("games[1].players" in p and "must be those of 'split'" in p for p in found)
    assert any("games[1].needs.sX" in p and "unknown issue" in p for p in found)
    assert any("games[1].needs.sA[0]" in p and "'D' is not a player" in p for p in found)
    assert any("games[2].deal_space" in p and "expected a bargaining game" in p for p in found)


def test_derived_coalition_game_of_a_unit_split() -> None:
    text = (
        SPLIT.replace("disagreement: {A: dA, B: dB, C: dC}", "disagreement: 0")
        + """\
- name: derived
  kind: coalition
  deal_space: split
  needs: {sA: [A, B], sB: [A, B], sC: [A, B, C]}
"""
    )
    sc = load(text)
    game = build_any_game(sc, "derived")
    assert isinstance(game, CoalitionGame)
    tu = game.game
    # A and B can split the surplus between them without C; C needs everyone.
    assert tu.v[tu.mask(["A", "B"])] == pytest.approx(1, abs=1e-6)
    assert tu.v[tu.mask(["A", "C"])] == pytest.approx(0, abs=1e-6)
    assert tu.v[tu.grand] == pytest.approx(1, abs=1e-6)
    ca = analyze_other(game, "derived")
    assert isinstance(ca, CoalitionAnalysis)
    shapley = next(s for s in ca.result.solutions if s.concept == "shapley")
    assert shapley.payoffs is not None
    np.testing.assert_allclose(shapley.payoffs, [0.5, 0.5, 0], atol=1e-6)
    # The symmetric Nash deal of the split gives C a third, more than C's worth alone,
    # so A and B block it in the NTU core.
    check = ca.result.ntu["nash_bargaining"]
    assert not check.in_core
    assert check.blocking[0][0] == ("A", "B")


def test_validate_reports_bargaining_problems_in_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text(scenario(SPLIT + "  quota: 7\n"))
    found = [str(p) for p in validate_file(path)]
    assert found and "quota" in found[0] and str(path) in found[0]


def test_proportions_give_the_proportional_solution() -> None:
    text = SPLIT.replace("disagreement: {A: dA, B: dB, C: dC}", "disagreement: 0") + (
        "  proportions: {A: 1, B: 1, C: 2}\n  solutions: [egalitarian]\n"
    )
    egal = solve(text).result.solution("egalitarian")
    assert egal is not None
    np.testing.assert_allclose(egal.gains, [0.25, 0.25, 0.5], atol=1e-6)


def test_rubinstein_reports_its_continuous_time_limit() -> None:
    text = """\
    - name: two
      kind: bargaining
      players: [A, B]
      issues: [sA, sB]
      constraints: ["sA + sB <= 1"]
      disagreement: 0
      discount: {A: 0.9, B: 0.8}
      solutions: [rubinstein]
    """
    rub = solve(text, "two").result.solution("rubinstein")
    assert rub is not None
    limit = rub.evidence["continuous_time_limit"]
    r = -np.log([0.9, 0.8])
    # The limit split is the Nash solution weighted by 1/r_i: shares r_j / (r_i + r_j).
    np.testing.assert_allclose(limit["payoffs"], [r[1] / r.sum(), r[0] / r.sum()], atol=1e-6)
    assert any("as offers come faster" in note for note in rub.notes)
