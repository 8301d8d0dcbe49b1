"""Where jobs run: threads or processes here (``local``) or Ray tasks (``ray``), one interface.

A backend maps a :class:`TaskSpec` over jobs and yields exactly one result per job, in
completion order, to the driver, which alone writes them. Each worker (a thread, a pool process
or a Ray worker process) builds its heavy state once with ``spec.start()`` and reuses it for the
jobs it runs. A job whose runner raises, or whose worker process dies after its retries are
spent, comes back as ``spec.lost(job, error)``: no job is lost or returned twice. Knows no
episode, env or agent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol, TypeVar

from harness.errors import InputError

_log = logging.getLogger("qharness")

J = TypeVar("J")
R = TypeVar("R")
J_in = TypeVar("J_in", contravariant=True)
R_out = TypeVar("R_out", covariant=True)
BACKENDS = ("local", "ray")
# The packages a cluster's workers import; shipped with each run (Ray ``py_modules``).
PACKAGES = ("harness", "envs", "agents", "scoring", "qvalue")


class BackendError(InputError, RuntimeError):
    """The backend cannot start (ray missing, cluster unreachable): a one-line user error."""


class JobRunner(Protocol[J_in, R_out]):
    """Per-worker state that runs jobs one at a time (an env and agent cache, a model...)."""

    def run(self, job: J_in) -> R_out:
        """Run one job; failures should come back as data in ``R``."""
        ...

    def close(self) -> None:
        """Release what ``run`` built."""


class TaskSpec(Protocol[J_in, R_out]):
    """What to run: picklable (for Ray), cheap to build; heavy state is made in ``start``."""

    def start(self) -> JobRunner[J_in, R_out]:
        """Build one worker's runner (called once per thread or Ray worker process)."""
        ...

    def lost(self, job: J_in, error: str) -> R_out:
        """The result of a job that could not finish (its runner raised or its worker died)."""
        ...


class Backend(Protocol):
    """Runs a TaskSpec over jobs, at most ``workers`` at once; results stream as they finish."""

    workers: int

    def map(self, spec: TaskSpec[J, R], jobs: Sequence[J]) -> Iterator[R]:
        """One result per job, in completion order."""
        ...

    def close(self) -> None:
        """Release the backend (a Ray started for the run is shut down)."""


def describe(exc: BaseException) -> str:
    """``Type: message at file:line`` for an error field."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


class LocalBackend:
    """A thread pool in this process; each thread keeps its own runner."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def map(self, spec: TaskSpec[J, R], jobs: Sequence[J]) -> Iterator[R]:
        """Run ``jobs`` on ``workers`` threads; yield results as they finish."""
        local = threading.local()
        runners: list[JobRunner[J, R]] = []
        lock = threading.Lock()

        def call(job: J) -> R:
            runner = getattr(local, "runner", None)
            if runner is None:
                runner = local.runner = spec.start()
                with lock:
                    runners.append(runner)
            try:
                return runner.run(job)
            except Exception as exc:
                return spec.lost(job, describe(exc))

        queue = list(jobs)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="worker") as ex:
            running: set[Future[R]] = set()
            try:
                while queue or running:
                    while queue and len(running) < self.workers:
                        running.add(ex.submit(call, queue.pop(0)))
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            finally:
                for runner in runners:
                    runner.close()

    def close(self) -> None:
        """Nothing to release."""


# Runners of the worker process (Ray or pool) this module is loaded in; one run at a time.
_RUNNERS: dict[str, Any] = {}


def run_cached(spec: TaskSpec[J, R], key: str, job: J) -> R:
    """Body of a task in a worker process: reuse (or build) this process's runner for ``key``."""
    runner = _RUNNERS.get(key)
    if runner is None:
        for old in list(_RUNNERS):
            _RUNNERS.pop(old).close()
        runner = _RUNNERS[key] = spec.start()
    result: R = runner.run(job)
    return result


class ProcessBackend:
    """A pool of ``workers`` spawned processes here, for CPU-bound jobs (search, scoring).

    A job whose process dies breaks the pool: every job then in flight is retried on a fresh
    pool, up to ``max_retries`` times, then reported through ``spec.lost``.
    """

    def __init__(self, workers: int, max_retries: int = 2) -> None:
        self.workers, self.max_retries = max(1, workers), max_retries

    def map(self, spec: TaskSpec[J, R], jobs: Sequence[J]) -> Iterator[R]:
        """Run ``jobs`` in the pool; yield results as they finish."""
        ctx, key = get_context("spawn"), uuid.uuid4().hex
        queue: list[tuple[J, int]] = [(job, 0) for job in jobs]
        pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        running: dict[Future[R], tuple[J, int]] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    job, tries = queue.pop(0)
                    running[pool.submit(run_cached, spec, key, job)] = (job, tries)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    job, tries = running.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        if tries < self.max_retries:
                            queue.insert(0, (job, tries + 1))
                        else:
                            yield spec.lost(job, f"worker process died: {exc}")
                    except Exception as exc:
                        yield spec.lost(job, describe(exc))
                if broken:
                    queue[:0] = [(j, t + 1) for j, t in running.values()]
                    running.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing to release (each ``map`` owns its pool)."""


def start_local_ray(num_cpus: int) -> float:
    """Start a Ray on this machine only (loopback, no dashboard, no usage stats); seconds taken."""
    # Bind to 127.0.0.1 instead of the node's address (read when ray is first imported, so
    # only if it was not imported before), and never report usage over the network. Set
    # either variable in the environment beforehand to override.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = _import_ray()
    t0 = time.perf_counter()
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=True,
        logging_level=logging.WARNING,
    )
    return time.perf_counter() - t0


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BackendError("--backend ray needs ray: pip install 'qharness[ray]'") from None
    return ray


def _ray_error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):  # RayTaskError: the task's own exception
        return f"{type(cause).__name__}: {cause}"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


class RayBackend:
    """Ray tasks on an existing cluster (``address``) or on a local Ray started for the run.

    At most ``workers`` tasks are in flight; a task whose worker process dies is retried up to
    ``max_retries`` times by Ray, then reported through ``spec.lost``. Each task asks for
    ``num_cpus`` CPUs and ``num_gpus`` GPUs (a fraction lets tasks share a GPU; Ray sets
    ``CUDA_VISIBLE_DEVICES`` to the task's GPU). A Ray already initialised in this process is
    reused and left running.
    """

    def __init__(
        self,
        workers: int,
        address: str = "",
        max_retries: int = 2,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
    ) -> None:
        self.workers, self.address = max(1, workers), address
        self.max_retries, self.num_cpus, self.num_gpus = max_retries, num_cpus, num_gpus
        self._started = False
        self.startup_s = 0.0

    def _connect(self) -> Any:
        ray = _import_ray()
        if ray.is_initialized():
            return ray
        if not self.address:
            self.startup_s = start_local_ray(self.workers)
            _log.info("[ray] local Ray, %d CPUs, up in %.1fs", self.workers, self.startup_s)
        else:
            t0 = time.perf_counter()
            try:
                ray.init(
                    address=self.address,
                    runtime_env={"py_modules": _package_dirs()},
                    log_to_driver=True,
                    logging_level=logging.WARNING,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise BackendError(
                    f"cannot reach the Ray cluster at {self.address!r} ({exc}); start one with "
                    "'ray start --head', or leave out --ray-address for a local Ray"
                ) from None
            self.startup_s = time.perf_counter() - t0
            _log.info("[ray] connected to %s in %.1fs", self.address, self.startup_s)
        self._started = True
        return ray

    def map(self, spec: TaskSpec[J, R], jobs: Sequence[J]) -> Iterator[R]:
        """Submit ``jobs`` as Ray tasks; yield each result as its task finishes (``ray.wait``)."""
        queue = list(jobs)
        if not queue:
            return
        ray = self._connect()
        task = ray.remote(run_cached).options(
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            max_retries=self.max_retries,
            retry_exceptions=False,
        )
        spec_ref, key = ray.put(spec), uuid.uuid4().hex
        running: dict[Any, J] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    job = queue.pop(0)
                    running[task.remote(spec_ref, key, job)] = job
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    yield self._result(ray, spec, running.pop(ref), ref)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)

    @staticmethod
    def _result(ray: Any, spec: TaskSpec[J, R], job: J, ref: Any) -> R:
        try:
            result: R = ray.get(ref)
        except ray.exceptions.RayError as exc:  # worker died, task raised, object lost
            return spec.lost(job, _ray_error(exc))
        return result

    def close(self) -> None:
        """Shut down the Ray this backend started or connected to."""
        if self._started:
            _import_ray().shutdown()
            self._started = False


def _package_dirs() -> list[str]:
    root = Path(__file__).resolve().parent.parent
    return [str(root / p) for p in PACKAGES if (root / p / "__init__.py").exists()]


def make_backend(
    name: str, workers: int, address: str = "", processes: bool = False, gpus: float = 0.0
) -> Backend:
    """The backend called ``name``: ``local`` (threads, or ``processes``) or ``ray`` (each task
    asking for one CPU and ``gpus`` GPUs)."""
    factories: dict[str, Callable[[], Backend]] = {
        "local": lambda: ProcessBackend(workers) if processes else LocalBackend(workers),
        "ray": lambda: RayBackend(workers, address, num_gpus=gpus),
    }
    if name not in factories:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return factories[name]()
