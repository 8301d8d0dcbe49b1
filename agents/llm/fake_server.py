"""A fake OpenAI-compatible HTTP server for tests and benchmarks (no model behind it).

It answers ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models`` with valid
responses carrying a scripted reply, after a fixed latency, and can inject faults per request
(HTTP 401, 429 or 500, garbage JSON, a hang, a dropped connection). ``pause()`` holds every
request until ``resume()`` (as a stalled server would), counting the clients that gave up
and closed their connection meanwhile (``disconnects``). It listens on 127.0.0.1 on a free
port and serves each request in its own thread.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("ok", "401", "429", "500", "garbage", "hang", "close")
DEFAULT_REPLY = "Thought: I should look around first.\nAction: look"


class FakeOpenAIServer:
    """Fake endpoint: ``reply(body) -> str`` answers every call after ``latency_s``; faults
    are taken from ``faults`` in request order (then ``fault_default``)."""

    def __init__(
        self,
        reply: str | Callable[[dict[str, Any]], str] = DEFAULT_REPLY,
        latency_s: float = 0.0,
        faults: Iterable[str] = (),
        fault_default: str = "ok",
        hang_s: float = 30.0,
        usage: bool = True,
    ) -> None:
        for f in [*faults, fault_default]:
            if f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}: use one of {', '.join(FAULTS)}")
        self.reply, self.latency_s, self.hang_s = reply, float(latency_s), float(hang_s)
        self.usage = usage  # False: answers carry no token counts (as some servers do)
        self._faults, self.fault_default = list(faults), fault_default
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self.disconnects = 0
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> FakeOpenAIServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving (hanging requests are released)."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def pause(self) -> None:
        """Hold every request (new and waiting) until ``resume``."""
        self._paused.set()

    def resume(self) -> None:
        """Answer held requests (those whose client is still there) and new ones."""
        self._paused.clear()

    def _hold(self, conn: socket.socket) -> bool:
        """Wait while paused; False if the client closed its connection meanwhile."""
        while self._paused.is_set() and not self._stop.is_set():
            readable, _, _ = select.select([conn], [], [], 0.02)
            if readable and not conn.recv(1, socket.MSG_PEEK):
                with self._lock:
                    self.disconnects += 1
                return False
        return True

    def _next_fault(self, body: dict[str, Any], auth: str) -> str:
        with self._lock:
            self.requests.append(body)
            self.auth_headers.append(auth)
            return self._faults.pop(0) if self._faults else self.fault_default

    def _text(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Silent."""

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                if not self.path.endswith(("/chat/completions", "/completions")):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                fault = server._next_fault(body, self.headers.get("Authorization", ""))
                if not server._hold(self.connection):
                    self.close_connection = True
                    return
                time.sleep(server.latency_s)
                if fault == "hang":
                    server._stop.wait(server.hang_s)
                    self.close_connection = True
                    return
                if fault == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault in ("401", "429", "500"):
                    headers = {"Retry-After": "0"} if fault == "429" else {}
                    self._json(int(fault), {"error": {"message": f"fake {fault}"}}, headers)
                    return
                if fault == "garbage":
                    self._raw(200, b'{"choices": [ {"mess', "application/json")
                    return
                self._json(200, server._answer(self.path, body))

            def _json(self, code: int, data: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(code, json.dumps(data).encode(), "application/json", headers)

            def _raw(
                self, code: int, blob: bytes, ctype: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(blob)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(blob)

        return Handler

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        n = int(body.get("n") or 1)
        text = self._text(body)
        prompt_chars = len(json.dumps(body.get("messages") or body.get("prompt") or ""))
        usage = {
            "prompt_tokens": prompt_chars // 4 + 1,
            "completion_tokens": len(text) // 4 + 1,
            "total_tokens": prompt_chars // 4 + len(text) // 4 + 2,
        }
        base: dict[str, Any] = {"id": "fake-1", "created": int(time.time()), "model": "fake"}
        if self.usage:
            base["usage"] = usage
        if path.endswith("/chat/completions"):
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
                for i in range(n)
            ]
            return {**base, "object": "chat.completion", "choices": choices}
        prompt = str(body.get("prompt") or "")
        full = prompt + text if body.get("echo") else text
        logprobs = _fake_logprobs(full) if body.get("logprobs") is not None else None
        choices = [
            {"index": i, "text": full, "finish_reason": "stop", "logprobs": logprobs}
            for i in range(n)
        ]
        return {**base, "object": "text_completion", "choices": choices}


def _fake_logprobs(text: str) -> dict[str, Any]:
    """Legacy-shape logprobs: one token per space-led word, logprob -0.1 per character."""
    tokens, offsets, pos = [], [], 0
    for i, word in enumerate(text.split(" ")):
        tok = word if i == 0 else " " + word
        tokens.append(tok)
        offsets.append(pos)
        pos += len(tok)
    values: list[float | None] = [-0.1 * len(t) for t in tokens]
    if values:
        values[0] = None
    return {"tokens": tokens, "token_logprobs": values, "text_offset": offsets}
