"""A small client of Delve's JSON-RPC API (v2), as IDEs speak it to `dlv --headless`.

Go's net/rpc JSON codec: one JSON object per call, `{"method": "RPCServer.X", "params":
[{...}], "id": N}`, answered by `{"id": N, "result": {...}, "error": null}`, each on its line.
"""

from __future__ import annotations

import json
import socket
import threading


class DelveError(Exception):
    pass


class Delve:
    def __init__(self, address: str, timeout: float = 600.0):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.reader = self.sock.makefile("rb")
        self.ids = 0
        self.lock = threading.Lock()

    def send(self, method: str, **params) -> int:
        with self.lock:
            self.ids += 1
            message = {"method": f"RPCServer.{method}", "params": [params], "id": self.ids}
            self.sock.sendall(json.dumps(message).encode() + b"\n")
            return self.ids

    def receive(self, call_id: int) -> dict:
        while True:
            answer = json.loads(self.reader.readline())
            if answer.get("id") == call_id:
                if answer.get("error"):
                    raise DelveError(answer["error"])
                return answer["result"]

    def call(self, method: str, **params) -> dict:
        return self.receive(self.send(method, **params))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()
