"""Run a task over many points in chunks: in this process, on local cores or on a Dask cluster.

A *task* is a picklable callable that takes a sequence of points (each a
mapping parameter -> value) and returns one record (a flat ``dict``, see
:mod:`simulator.outcomes`) per point, in order; :class:`simulator.outcomes.PointTask`
is the one negsim uses. It may also have ``describe()`` (JSON-able facts that
determine its records, for the run's fingerprint) and ``columns()`` (the
records' columns, in order).

:func:`run_points` cuts the points into chunks of ``chunk_size`` consecutive
points and hands them to a :class:`concurrent.futures.Executor`: a
:class:`~concurrent.futures.ProcessPoolExecutor` on the local cores, or the
executor of a ``dask.distributed`` client (``Client(address).get_executor()``),
so that both run the same code; with one worker and no scheduler the chunks
run in this process. At most two chunks per worker are in flight, so memory
holds a bounded number of records however many points there are.

On disk (``out_dir``), every finished chunk is written at once, atomically
(temporary file, then rename), as ``chunk-000017.json``, next to
``manifest.json``, which records the run's *fingerprint*: a SHA-256 of the
task's ``describe()`` and of the points (their own ``describe()``, e.g. a
grid's ranges, or else their values). An interrupted run (Ctrl-C, a failing
chunk, a lost cluster) keeps every chunk written so far; ``resume=True``
recomputes only the missing chunks, and refuses a folder whose fingerprint or
chunk size differ. :func:`assemble` then writes the records, in point order,
to one ``.csv``, ``.parquet`` or ``.json`` file, atomically.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import multiprocessing
import os
import re
import secrets
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Protocol

from simulator.atomic_write import write_text_atomic
from simulator.errors import InputError

__all__ = [
    "FORMATS",
    "MAX_CHUNK_SIZE",
    "RunResult",
    "Task",
    "Workers",
    "assemble",
    "default_chunk_size",
    "read_records",
    "remove_run",
    "run_points",
    "write_records",
]

Record = dict[str, Any]
Point = Mapping[str, float]
Progress = Callable[[int, int], None]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "negsim.run/1"
FORMATS = (".csv", ".parquet", ".json")
"""Output formats :func:`assemble` and :func:`write_records` write, by file suffix."""

MAX_CHUNK_SIZE = 1000
"""Default chunks hold at most this many points (memory, and work lost to an interrupt)."""

_CHUNKS_PER_RUN = 256  # default chunk count for runs below 256 * MAX_CHUNK_SIZE points
_IN_FLIGHT_PER_WORKER = 2
_CHUNK_NAME = re.compile(r"chunk-(\d{6,})\.json")


class Task(Protocol):
    """What :func:`run_points` runs: points in, one record per point out, in order."""

    def __call__(self, points: Sequence[Point]) -> list[Record]: ...


# ------------------------------------------------------------------ workers
def _start_worker() -> None:
    """Prepare a local worker process: ignore Ctrl-C, one BLAS thread.

    Ctrl-C reaches the whole process group: the parent handles it (keeping the
    finished chunks); workers must not each print a traceback. The workers
    already use every core, so BLAS threads inside each would only compete
    (threadpoolctl, when installed, sets that at run time, also after a fork).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def _local_context() -> multiprocessing.context.BaseContext:
    """``fork`` when this process runs one Python thread, else ``forkserver`` or ``spawn``.

    Forking inherits the imported modules and the parsed scenario (starting a
    worker takes milliseconds; a fresh interpreter imports numpy, scipy and
    negsim for about two seconds). With other Python threads running (a progress
    bar's refresh thread, a Dask client) forking is unsafe, so a fork server is
    used. Tasks and points are pickled either way, so everything here also runs
    under ``spawn`` (the only method on Windows and macOS's default).
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _local_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Workers:
    """Where chunks run: this process, a local process pool, or a Dask cluster.

    ``workers``: local processes (default: every core this process may use);
    ``1`` with no ``scheduler`` runs chunks in this process, without a pool.
    ``scheduler``: the address of a ``dask.distributed`` scheduler
    (``"tcp://host:8786"``); ``workers`` is then ignored and the cluster's
    threads count as the workers; ``timeout`` (seconds) bounds the wait to
    connect. Use as a context manager (or call
    :meth:`close`) to release the pool or the client; :func:`run_points` opens
    one itself when not given one, and :func:`simulator.sweep.sweep` keeps one
    open across its bisection rounds.
    """

    def __init__(
        self, workers: int | None = None, scheduler: str | None = None, *, timeout: float = 30.0
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"Workers: workers must be at least 1, got {workers}")
        self.scheduler = scheduler
        self.executor: Executor | None = None
        self._client: Any = None
        self._closed = False
        if scheduler is not None:
            try:
                from distributed import Client
            except ImportError:  # pragma: no cover - dask is a dependency
                raise InputError.at(
                    "--scheduler",
                    None,
                    "",
                    "running on a Dask cluster needs dask.distributed "
                    "(pip install 'dask[distributed]')",
                ) from None
            try:
                self._client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise InputError.at(
                    "--scheduler",
                    None,
                    "",
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                ) from None
            self.executor = self._client.get_executor(pure=False)
            threads = self._client.nthreads()
            self.slots = max(1, sum(threads.values()))
            self.label = f"Dask cluster at {scheduler} ({self.slots} threads)"
            return
        count = _local_workers() if workers is None else workers
        self.slots = count
        if count == 1:
            self.label = "this process"
            return
        self.label = f"{count} local processes"

    @property
    def in_process(self) -> bool:
        """Whether chunks run in this process (no pool, no cluster)."""
        return self.scheduler is None and self.slots == 1

    @property
    def started(self) -> bool:
        """Whether the pool's processes (or the cluster's executor) exist yet.

        A local pool starts at the first :meth:`submit` (forking two workers
        costs about 0.1 s, a fork server several seconds), so a run that turns
        out to need no parallelism (see :func:`run_points`) never pays for it.
        """
        return self.executor is not None

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        if self.executor is None:
            if self.in_process or self._closed:
                raise RuntimeError("Workers.submit: no pool (one local worker, or closed)")
            # The start method is chosen now, when it matters: threads started since count.
            self.executor = ProcessPoolExecutor(
                max_workers=self.slots, mp_context=_local_context(), initializer=_start_worker
            )
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork whenever native threads exist (OpenBLAS
            # starts some at import); only Python threads make forking unsafe here,
            # and _local_context checked there are none.
            warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks")
            return self.executor.submit(function, *args)

    def abort(self) -> None:
        """Stop at once: cancel queued chunks and end the local worker processes."""
        self._closed = True
        executor = self.executor
        if executor is None:
            return
        if isinstance(executor, ProcessPoolExecutor):
            # Only the processes this pool started; their chunks are lost, the written ones kept.
            processes = list(getattr(executor, "_processes", {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()
        else:
            executor.shutdown(wait=False)
        self._close_client()
        self.executor = None

    def close(self) -> None:
        """Release the pool or the client (waits for running chunks)."""
        self._closed = True
        if self.executor is not None:
            if isinstance(self.executor, ProcessPoolExecutor):
                self.executor.shutdown(wait=True)
            else:
                self.executor.shutdown(wait=False)
        self._close_client()
        self.executor = None

    def _close_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.abort()
        else:
            self.close()


def _run_chunk(task: Task, points: list[Point]) -> list[Record]:
    """Run ``task`` on one chunk and check it kept its side of the contract."""
    records = task(points)
    if len(records) != len(points):
        raise RuntimeError(
            f"the task returned {len(records)} records for a chunk of {len(points)} points"
        )
    return list(records)


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class RunResult:
    """What :func:`run_points` did and where the records are.

    ``records`` holds them in point order for a run without ``out_dir``;
    a run on disk keeps them in its chunk files (:meth:`iter_records` and
    :meth:`iter_chunks` read them back one chunk at a time; :meth:`all_records`
    loads them all). ``computed`` and ``reused``: chunks solved by this call and
    chunks found finished on disk (resume). ``fingerprint``: see the module
    docstring.
    """

    total: int
    chunk_size: int
    columns: tuple[str, ...]
    fingerprint: str
    computed: int
    reused: int
    elapsed: float
    where: str
    out_dir: Path | None = None
    records: list[Record] | None = field(default=None, repr=False)

    @property
    def n_chunks(self) -> int:
        return _n_chunks(self.total, self.chunk_size)

    def iter_chunks(self) -> Iterator[list[Record]]:
        """The records chunk by chunk, in point order."""
        if self.records is not None:
            for start in range(0, self.total, self.chunk_size):
                yield self.records[start : start + self.chunk_size]
            return
        assert self.out_dir is not None
        yield from _read_chunks(self.out_dir, self.n_chunks)

    def iter_records(self) -> Iterator[Record]:
        """The records one by one, in point order."""
        for chunk in self.iter_chunks():
            yield from chunk

    def all_records(self) -> list[Record]:
        """Every record in one list (for runs small enough to hold in memory)."""
        return self.records if self.records is not None else list(self.iter_records())


def default_chunk_size(total: int) -> int:
    """Points per chunk when none is given: about 256 chunks, at most :data:`MAX_CHUNK_SIZE`.

    It depends on the number of points only (not on the workers), so that the
    same run on another machine or cluster cuts the same chunks and resumes.
    """
    return max(1, min(MAX_CHUNK_SIZE, math.ceil(total / _CHUNKS_PER_RUN)))


def _n_chunks(total: int, chunk_size: int) -> int:
    return math.ceil(total / chunk_size) if total else 0


def _chunk_path(out_dir: Path, index: int) -> Path:
    return out_dir / f"chunk-{index:06d}.json"


def _fingerprint(task: Any, points: Sequence[Point]) -> tuple[str, dict[str, Any]]:
    """The run's fingerprint and what it was computed from."""
    describe = getattr(task, "describe", None)
    task_facts = describe() if callable(describe) else {"task": type(task).__qualname__}
    points_facts: Any
    point_describe = getattr(points, "describe", None)
    if callable(point_describe):
        points_facts = point_describe()
    else:
        digest = hashlib.sha256()
        for point in points:
            digest.update(json.dumps(dict(point), sort_keys=True).encode("utf-8"))
            digest.update(b"\n")
        points_facts = {"count": len(points), "sha256": digest.hexdigest()}
    facts = {"task": task_facts, "points": points_facts}
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), facts


def _read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError.at(str(path), None, "", f"cannot read the run's manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputError.at(
            str(path), None, "", f"not a negsim run manifest (expected format {MANIFEST_FORMAT!r})"
        )
    return manifest


def _finished(out_dir: Path, n_chunks: int) -> set[int]:
    found = set()
    for entry in out_dir.iterdir():
        match = _CHUNK_NAME.fullmatch(entry.name)
        if match and int(match.group(1)) < n_chunks:
            found.add(int(match.group(1)))
    return found


def _prepare(
    out_dir: Path,
    fingerprint: str,
    facts: dict[str, Any],
    total: int,
    chunk_size: int | None,
    columns: Sequence[str] | None,
    resume: bool,
) -> tuple[int, set[int]]:
    """Check or create the run folder; the chunk size and the chunks already finished."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out_dir)
    where = str(out_dir / MANIFEST)
    if manifest is not None:
        n_done = len(_finished(out_dir, int(manifest.get("chunks", 0))))
        if not resume:
            raise InputError.at(
                where,
                None,
                "",
                f"{out_dir} already holds a run ({n_done} of {manifest.get('chunks')} chunks "
                "done); resume it (--resume) or choose another output",
            )
        if manifest.get("fingerprint") != fingerprint:
            raise InputError.at(
                where,
                None,
                "fingerprint",
                f"{out_dir} holds a different run: its scenario, game, options or points "
                f"differ from this one (fingerprint {str(manifest.get('fingerprint'))[:12]}... "
                f"here {fingerprint[:12]}...); resume only with the same inputs, or choose "
                "another output",
            )
        stored = int(manifest["chunk_size"])
        if chunk_size is not None and chunk_size != stored:
            raise InputError.at(
                where,
                None,
                "chunk_size",
                f"the run was cut into chunks of {stored} points, not {chunk_size}; "
                "resume with the same chunk size (or leave it out)",
            )
        if int(manifest["total"]) != total:  # covered by the fingerprint, but cheap to say
            raise InputError.at(where, None, "total", "the run has a different number of points")
        return stored, _finished(out_dir, _n_chunks(total, stored))
    size = chunk_size or default_chunk_size(total)
    manifest = {
        "format": MANIFEST_FORMAT,
        "fingerprint": fingerprint,
        "total": total,
        "chunk_size": size,
        "chunks": _n_chunks(total, size),
        "columns": None if columns is None else list(columns),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **facts,
    }
    write_text_atomic(out_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return size, set()


def _write_chunk(out_dir: Path, index: int, start: int, records: list[Record]) -> None:
    text = json.dumps({"index": index, "start": start, "records": records})
    write_text_atomic(_chunk_path(out_dir, index), text)


def _read_chunks(out_dir: Path, n_chunks: int) -> Iterator[list[Record]]:
    for index in range(n_chunks):
        path = _chunk_path(out_dir, index)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError.at(
                str(path), None, "", "chunk missing: the run is not finished; resume it first"
            ) from None
        yield data["records"]


# ------------------------------------------------------------------ running
def run_points(
    task: Task,
    points: Sequence[Point],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    pool: Workers | None = None,
) -> RunResult:
    """Run ``task`` on every point, in chunks, and collect the records in point order.

    ``points``: a sequence (``len`` and slicing) of mappings parameter ->
    value; it may compute its items on demand (a grid) and may offer
    ``describe()`` for the fingerprint. ``workers``, ``scheduler``: see
    :class:`Workers` (ignored when an open ``pool`` is given). ``chunk_size``:
    points per chunk (default :func:`default_chunk_size`; on resume, the run's).
    ``out_dir``: a folder for the chunk files and manifest (default: keep the
    records in memory). ``resume``: continue the run in ``out_dir``, skipping
    finished chunks. ``progress(done, total)`` is called with the number of
    points finished, once at the start and after every chunk. A run with a
    single chunk to compute runs it in this process unless the pool has
    already started (one chunk gains nothing from a pool's start-up).

    Errors: :class:`~simulator.errors.InputError` for a folder that holds
    another run (or any run, without ``resume``); an exception raised by the
    task is re-raised after the chunks already finished are written (and, on a
    pool, after the chunks still running finish and are written too).
    """
    started = time.perf_counter()
    total = len(points)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"run_points: chunk_size must be at least 1, got {chunk_size}")
    columns_of = getattr(task, "columns", None)
    columns = tuple(columns_of()) if callable(columns_of) else None
    fingerprint, facts = _fingerprint(task, points)
    folder = None if out_dir is None else Path(out_dir)
    done: set[int] = set()
    if folder is not None:
        size, done = _prepare(folder, fingerprint, facts, total, chunk_size, columns, resume)
    else:
        size = chunk_size or default_chunk_size(total)
    n_chunks = _n_chunks(total, size)
    pending = [i for i in range(n_chunks) if i not in done]
    held: dict[int, list[Record]] = {}
    finished_points = sum(min(size, total - i * size) for i in done)
    if progress is not None:
        progress(finished_points, total)

    def chunk_points(index: int) -> list[Point]:
        return [dict(p) for p in points[index * size : (index + 1) * size]]

    def finish(index: int, records: list[Record]) -> None:
        nonlocal finished_points
        if folder is not None:
            _write_chunk(folder, index, index * size, records)
        else:
            held[index] = records
        finished_points += len(records)
        if progress is not None:
            progress(finished_points, total)

    own = pool is None and bool(pending)
    active = Workers(workers, scheduler) if own else pool
    where = "nothing to compute" if active is None else active.label
    try:
        if active is None:
            pass
        elif active.in_process or (len(pending) == 1 and not active.started):
            # One chunk cannot be shared out: a pool not yet started would only add its start-up.
            where = "this process"
            for index in pending:
                finish(index, _run_chunk(task, chunk_points(index)))
        else:
            _run_on(active, task, pending, chunk_points, finish)
    except KeyboardInterrupt:
        if own and active is not None:
            active.abort()
        raise
    finally:
        if own and active is not None:
            active.close()
    records: list[Record] | None = None
    if folder is None:
        records = [record for index in range(n_chunks) for record in held[index]]
    return RunResult(
        total=total,
        chunk_size=size,
        columns=columns if columns is not None else _columns_of(records or []),
        fingerprint=fingerprint,
        computed=len(pending),
        reused=len(done),
        elapsed=time.perf_counter() - started,
        where=where,
        out_dir=folder,
        records=records,
    )


def _run_on(
    pool: Workers,
    task: Task,
    pending: list[int],
    chunk_points: Callable[[int], list[Point]],
    finish: Callable[[int, list[Record]], None],
) -> None:
    """Keep up to two chunks per worker in flight; hand each finished chunk to ``finish``."""
    queue = iter(pending)
    running: dict[Future[Any], int] = {}
    window = _IN_FLIGHT_PER_WORKER * pool.slots

    def submit_next() -> None:
        index = next(queue, None)
        if index is not None:
            running[pool.submit(_run_chunk, task, chunk_points(index))] = index

    for _ in range(window):
        submit_next()
    failure: BaseException | None = None
    try:
        while running:
            ready, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in ready:
                index = running.pop(future)
                if future.cancelled():
                    continue
                error = future.exception()
                if error is not None:
                    if failure is None:
                        failure = error
                        # Stop feeding; let the running chunks finish and keep them.
                        for other in running:
                            other.cancel()
                    continue
                finish(index, future.result())
                if failure is None:
                    submit_next()
    except BaseException:
        for future in running:
            future.cancel()
        raise
    if failure is not None:
        raise failure


def _columns_of(records: Iterable[Record]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(key, None)
    return tuple(seen)


# ------------------------------------------------------------------ output
def remove_run(out_dir: str | os.PathLike[str]) -> None:
    """Remove the chunk files and manifest a run wrote, then the folder if it is empty.

    For after :func:`assemble` has written the run's output; files that are not
    the run's are left alone.
    """
    folder = Path(out_dir)
    for entry in folder.glob("chunk-*.json"):
        entry.unlink()
    (folder / MANIFEST).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def assemble(
    out_dir: str | os.PathLike[str],
    out_file: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write every record of the finished run in ``out_dir`` to ``out_file``, atomically.

    The format follows the suffix (:data:`FORMATS`); records are streamed
    chunk by chunk (two passes for ``.parquet``, whose column types are read
    off the data first). ``metadata`` is stored with the run's manifest facts
    (``.json``: under ``"run"``; ``.parquet``: in the schema metadata;
    ``.csv`` has no place for it). Raises :class:`~simulator.errors.InputError`
    when chunks are missing (resume the run first).
    """
    folder = Path(out_dir)
    manifest = _read_manifest(folder)
    if manifest is None:
        raise InputError.at(str(folder), None, "", "no run here (no manifest.json)")
    n_chunks = int(manifest["chunks"])
    missing = sorted(set(range(n_chunks)) - _finished(folder, n_chunks))
    if missing:
        raise InputError.at(
            str(folder),
            None,
            "",
            f"the run is not finished: {len(missing)} of {n_chunks} chunks missing "
            f"(first: {missing[0]}); resume it first",
        )
    columns = manifest.get("columns")
    if columns is None:
        columns = list(_columns_of(r for chunk in _read_chunks(folder, n_chunks) for r in chunk))
    run = {k: v for k, v in manifest.items() if k not in ("columns", "format")}
    run.update(metadata or {})
    return _write(Path(out_file), lambda: _read_chunks(folder, n_chunks), list(columns), run)


def write_records(
    records: Sequence[Record],
    out_file: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``records`` (in memory) to ``out_file`` as :func:`assemble` does."""
    cols = list(columns) if columns is not None else list(_columns_of(records))
    return _write(Path(out_file), lambda: iter([list(records)]), cols, dict(metadata or {}))


def _write(
    path: Path,
    chunks: Callable[[], Iterator[list[Record]]],
    columns: list[str],
    run: dict[str, Any],
) -> Path:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError.at(
            str(path),
            None,
            "",
            f"unknown output format {suffix or '(no suffix)'!r}; use one of {', '.join(FORMATS)}",
        )
    if suffix == ".parquet":
        _write_parquet(path, chunks, columns, run)
        return path
    with _atomic(path) as handle:
        if suffix == ".csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for chunk in chunks():
                writer.writerows([_csv_cell(r.get(c)) for c in columns] for r in chunk)
        else:
            handle.write('{"run": ' + json.dumps(run, sort_keys=True))
            handle.write(',\n"columns": ' + json.dumps(columns) + ',\n"records": [')
            first = True
            for chunk in chunks():
                for record in chunk:
                    handle.write(
                        ("\n" if first else ",\n") + json.dumps({c: record.get(c) for c in columns})
                    )
                    first = False
            handle.write("\n]}\n")
    return path


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[IO[str]]:
    """A text file written to a temporary name in the same folder, renamed when complete."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _arrow_types(chunks: Iterator[list[Record]], columns: list[str]) -> dict[str, Any]:
    import pyarrow as pa

    seen: dict[str, set[type]] = {c: set() for c in columns}
    for chunk in chunks:
        for record in chunk:
            for c in columns:
                value = record.get(c)
                if value is not None:
                    seen[c].add(type(value))
    types: dict[str, Any] = {}
    for c, kinds in seen.items():
        if not kinds:
            types[c] = pa.null()
        elif kinds == {bool}:
            types[c] = pa.bool_()
        elif kinds == {int}:
            types[c] = pa.int64()
        elif kinds <= {int, float}:
            types[c] = pa.float64()
        else:
            types[c] = pa.string()
    return types


def _write_parquet(
    path: Path,
    chunks: Callable[[], Iterator[list[Record]]],
    columns: list[str],
    run: dict[str, Any],
) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError.at(
            str(path), None, "", "writing .parquet needs pyarrow: pip install pyarrow"
        ) from None
    types = _arrow_types(chunks(), columns)
    schema = pa.schema(
        [pa.field(c, types[c]) for c in columns],
        metadata={"negsim.run": json.dumps(run, sort_keys=True)},
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with pq.ParquetWriter(str(temporary), schema) as writer:
            for chunk in chunks():
                if not chunk:
                    continue
                arrays = [
                    pa.array(
                        [
                            None
                            if r.get(c) is None
                            else (str(r[c]) if types[c] == pa.string() else r[c])
                            for r in chunk
                        ],
                        type=types[c],
                    )
                    for c in columns
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_records(path: str | os.PathLike[str]) -> list[Record]:
    """The records of a file written by :func:`assemble` or :func:`write_records`.

    ``.json`` and ``.parquet`` keep the types; for ``.csv``, empty cells are
    ``None``, ``true``/``false`` are booleans, and a column whose every other
    cell is a number is read as numbers.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".json":
        data = json.loads(file.read_text(encoding="utf-8"))
        return list(data["records"])
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_table(str(file)).to_pylist())
    if suffix != ".csv":
        raise InputError.at(str(file), None, "", f"unknown format {suffix!r}; expected {FORMATS}")
    with open(file, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    columns: list[list[Any]] = [[row[j] for row in body] for j in range(len(header))]
    parsed = [_parse_column(cells) for cells in columns]
    return [{c: parsed[j][i] for j, c in enumerate(header)} for i in range(len(body))]


def _parse_column(cells: list[str]) -> list[Any]:
    filled = [c for c in cells if c != ""]
    if filled and all(c in ("true", "false") for c in filled):
        return [None if c == "" else c == "true" for c in cells]
    try:
        numbers = [None if c == "" else _number(c) for c in cells]
    except ValueError:
        return [None if c == "" else c for c in cells]
    return numbers


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
