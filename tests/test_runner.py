"""The chunked runner: order, chunk files, atomic output, resume, failures, pools and Dask.

The tasks here are tiny and deterministic (a record is a function of its
point), so every run, however it is chunked or wherever it runs, must give the
same records in point order; the Dask test also runs the real scenario task.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.outcomes import PointTask
from simulator.runner import (
    MAX_CHUNK_SIZE,
    Workers,
    assemble,
    default_chunk_size,
    read_records,
    run_points,
    write_records,
)

REPO = Path(__file__).resolve().parents[1]
US_UKRAINE = REPO / "scenarios" / "minerals_us_ukraine.yaml"


def expected(point: dict[str, float]) -> dict[str, Any]:
    x = point["x"]
    return {
        "x": x,
        "square": x * x,
        "label": f"point {x:g}",
        "odd": int(x) % 2 == 1,
        "count": int(x),
        "nothing": None,
        "third": x / 3.0,
    }


@dataclass
class SquareTask:
    """Records computed from the point alone; counts the chunks it ran (in this process)."""

    salt: str = "a"
    fail_at: float | None = None
    interrupt_at: float | None = None
    chunks: list[int] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"task": "square", "salt": self.salt}

    def columns(self) -> list[str]:
        return ["x", "square", "label", "odd", "count", "nothing", "third"]

    def __call__(self, points: Any) -> list[dict[str, Any]]:
        self.chunks.append(len(points))
        out = []
        for p in points:
            if self.fail_at is not None and p["x"] == self.fail_at:
                raise RuntimeError(f"failing at {p['x']}")
            if self.interrupt_at is not None and p["x"] == self.interrupt_at:
                raise KeyboardInterrupt
            out.append(expected(p))
        return out


def points(n: int) -> list[dict[str, float]]:
    return [{"x": float(i)} for i in range(n)]


# ------------------------------------------------------------------ in memory
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 40), st.one_of(st.none(), st.integers(1, 50)))
def test_records_come_back_in_point_order_for_any_chunking(n: int, chunk: int | None) -> None:
    result = run_points(SquareTask(), points(n), workers=1, chunk_size=chunk)
    assert result.records == [expected(p) for p in points(n)]
    assert result.total == n
    assert result.computed == result.n_chunks == math.ceil(n / result.chunk_size)
    assert list(result.iter_records()) == result.records


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**7))
def test_default_chunk_size_is_bounded_and_covers_the_run(total: int) -> None:
    size = default_chunk_size(total)
    assert 1 <= size <= MAX_CHUNK_SIZE
    assert math.ceil(total / size) <= max(256, math.ceil(total / MAX_CHUNK_SIZE))


def test_progress_counts_points_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    run_points(
        SquareTask(), points(10), workers=1, chunk_size=3, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(0, 10), (3, 10), (6, 10), (9, 10), (10, 10)]


def test_a_task_returning_too_few_records_is_an_error() -> None:
    def short(pts: Any) -> list[dict[str, Any]]:
        return [expected(p) for p in pts][:-1]

    with pytest.raises(RuntimeError, match="returned 1 records for a chunk of 2"):
        run_points(short, points(2), workers=1, chunk_size=2)


# ------------------------------------------------------------------ on disk
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_chunks_on_disk_assemble_to_every_format(tmp_path: Path, suffix: str) -> None:
    run = run_points(SquareTask(), points(23), workers=1, chunk_size=5, out_dir=tmp_path / "run")
    assert run.records is None
    chunk_files = sorted(p.name for p in (tmp_path / "run").glob("chunk-*.json"))
    assert chunk_files == [f"chunk-{i:06d}.json" for i in range(5)]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["fingerprint"] == run.fingerprint
    assert manifest["total"] == 23 and manifest["chunk_size"] == 5 and manifest["chunks"] == 5
    out = assemble(tmp_path / "run", tmp_path / f"all{suffix}", metadata={"note": "x"})
    back = read_records(out)
    assert back == [expected(p) for p in points(23)]
    assert list(back[0]) == SquareTask().columns()
    # Nothing is left behind but the output (the temporary file was renamed).
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"all{suffix}", "run"]
    if suffix == ".json":
        data = json.loads(out.read_text())
        assert data["run"]["note"] == "x" and data["run"]["fingerprint"] == run.fingerprint


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_records_in_memory_write_and_read_back(tmp_path: Path, suffix: str) -> None:
    records = [expected(p) for p in points(7)]
    records[3]["label"] = 'comma, "quote"'
    out = write_records(records, tmp_path / f"r{suffix}")
    assert read_records(out) == records


def test_unknown_output_format_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown output format '\.xlsx'"):
        write_records([expected({"x": 1.0})], tmp_path / "r.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_resume_skips_finished_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    run_points(SquareTask(), points(20), workers=1, chunk_size=4, out_dir=folder)
    (folder / "chunk-000001.json").unlink()
    (folder / "chunk-000003.json").unlink()
    with pytest.raises(InputError, match="not finished: 2 of 5 chunks missing"):
        assemble(folder, tmp_path / "out.csv")
    task = SquareTask()
    resumed = run_points(task, points(20), workers=1, out_dir=folder, resume=True)
    assert task.chunks == [4, 4]  # only the two missing chunks were computed
    assert (resumed.computed, resumed.reused, resumed.chunk_size) == (2, 3, 4)
    assert list(resumed.iter_records()) == [expected(p) for p in points(20)]
    # A finished run resumes without computing anything.
    again = SquareTask()
    run_points(again, points(20), workers=1, out_dir=folder, resume=True)
    assert again.chunks == []


def test_a_folder_with_a_run_is_not_overwritten_without_resume(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    run_points(SquareTask(), points(6), workers=1, chunk_size=3, out_dir=folder)
    with pytest.raises(InputError, match=r"already holds a run \(2 of 2 chunks done\)"):
        run_points(SquareTask(), points(6), workers=1, chunk_size=3, out_dir=folder)


@pytest.mark.parametrize(
    ("task", "pts", "message"),
    [
        (SquareTask(salt="b"), points(12), "holds a different run"),
        (SquareTask(), points(13), "holds a different run"),
        (SquareTask(), [{"x": float(i) + 0.5} for i in range(12)], "holds a different run"),
    ],
    ids=["task changed", "more points", "other points"],
)
def test_resume_refuses_a_different_run(
    tmp_path: Path, task: SquareTask, pts: list[dict[str, float]], message: str
) -> None:
    folder = tmp_path / "run"
    run_points(SquareTask(), points(12), workers=1, chunk_size=4, out_dir=folder)
    with pytest.raises(InputError, match=message):
        run_points(task, pts, workers=1, out_dir=folder, resume=True)
    assert task.chunks == []


def test_resume_refuses_another_chunk_size(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    run_points(SquareTask(), points(12), workers=1, chunk_size=4, out_dir=folder)
    with pytest.raises(InputError, match="chunks of 4 points, not 5"):
        run_points(SquareTask(), points(12), workers=1, chunk_size=5, out_dir=folder, resume=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_chunk_keeps_the_finished_ones_and_the_run_resumes(
    tmp_path: Path, workers: int
) -> None:
    folder = tmp_path / "run"
    with pytest.raises(RuntimeError, match="failing at 13"):
        run_points(
            SquareTask(fail_at=13.0), points(20), workers=workers, chunk_size=4, out_dir=folder
        )
    written = {int(p.stem.split("-")[1]) for p in folder.glob("chunk-*.json")}
    assert 3 not in written  # the chunk holding x = 13
    if workers == 1:
        assert written == {0, 1, 2}  # in order, up to the failure
    assert not list(folder.glob(".*.tmp"))
    task = SquareTask()
    resumed = run_points(task, points(20), workers=1, out_dir=folder, resume=True)
    assert resumed.reused == len(written)
    assert len(task.chunks) == 5 - len(written)
    assemble(folder, tmp_path / "out.json")
    assert read_records(tmp_path / "out.json") == [expected(p) for p in points(20)]


def test_an_interrupt_keeps_finished_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_points(
            SquareTask(interrupt_at=9.0), points(12), workers=1, chunk_size=3, out_dir=folder
        )
    assert sorted(p.name for p in folder.glob("chunk-*.json")) == [
        "chunk-000000.json",
        "chunk-000001.json",
        "chunk-000002.json",
    ]
    task = SquareTask()
    run_points(task, points(12), workers=1, out_dir=folder, resume=True)
    assert task.chunks == [3]


# ------------------------------------------------------------------ pools and Dask
def test_a_local_pool_gives_the_in_process_records() -> None:
    task = PointTask(str(US_UKRAINE), "offer_and_response")
    pts = [{"guarantee_cost_us": 0.05 * i, "us_demand": 0.4 + 0.01 * i} for i in range(12)]
    alone = run_points(task, pts, workers=1, chunk_size=5)
    pooled = run_points(task, pts, workers=2, chunk_size=5)
    assert pooled.records == alone.records
    assert pooled.where == "2 local processes"
    with Workers(workers=2) as pool:
        assert run_points(task, pts, chunk_size=2, pool=pool).records == alone.records
        assert pool.executor is not None  # the run left the caller's pool open


def test_a_dask_cluster_gives_the_in_process_records(tmp_path: Path) -> None:
    from distributed import LocalCluster

    task = PointTask(str(US_UKRAINE), "split_the_deal", ("nash_bargaining", "egalitarian"))
    pts = [{"guarantee_cost_us": 0.1 + 0.05 * i} for i in range(8)]
    alone = run_points(task, pts, workers=1, chunk_size=3)
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        on_dask = run_points(
            task, pts, scheduler=cluster.scheduler_address, chunk_size=3, out_dir=tmp_path / "run"
        )
    assert on_dask.where.startswith("Dask cluster at tcp://")
    assert list(on_dask.iter_records()) == alone.records
    assert on_dask.fingerprint == alone.fingerprint


def test_an_unreachable_scheduler_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        Workers(scheduler="tcp://127.0.0.1:9", timeout=1.0)
