"""A minimal fake Hugging Face Hub serving model repositories from local directories.

No hub is reachable where our tests run; this one lets them take the image build's download
path (`reranker.download`: huggingface_hub's list_repo_files and hf_hub_download) for real.

    with FakeHub({"org/model": Path("tiny")}, host="127.0.0.1", port=0) as hub:
        subprocess.run([...], env={**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1"})

Every file under a directory (recursively; `.git/`, `.cache/` excepted) is a repository file at
revision "main", whose commit id hashes the files' paths and hashes. `hub.push(repo, directory)`
makes a new commit the head of "main"; earlier commits stay reachable by their id, as on the
real hub. Refusals are the real hub's, status and X-Error-Code (huggingface_hub's
hf_raise_for_status maps them to its errors):
- a repository that does not exist: 401 RepoNotFound to a request without a token (the hub
  does not tell a missing repository from a private one), 404 RepoNotFound with one;
- a repository listed in `gated` (repo -> the token that has access): 401 GatedRepo to every
  request without a token; with another token, its model info (`"gated": "manual"`) but 403
  GatedRepo for its files;
- `hub.outage = 503`: every request answers that status (a hub that is down); `hub.slow`
  seconds after each 1 MB of a file make a slow connection; `hub.hold_after = N` stops every
  file download after N bytes until it is set back to None (a download caught midway).
What huggingface_hub 2.x calls:
- GET /api/models/{repo}[/revision/{rev}]: model_info (siblings: the files).
- GET /api/models/{repo}/tree/{rev}[/{dir}]?recursive=: list_repo_tree/list_repo_files;
  entries {"type": "file"|"directory", "path", "oid", "size", "lfs"}, `page_size` per page,
  the next page in a `Link: <absolute url>; rel="next"` header (utils/_pagination.py).
- HEAD|GET /{repo}/resolve/{rev}/{path}: hf_hub_download. get_hf_file_metadata needs
  X-Repo-Commit and ETag (git blob sha1; for LFS files, i.e. weights or >= 10 MB, the sha256,
  also in X-Linked-Etag with X-Linked-Size); Content-Length is the expected size. Files stream in 1 MB
  chunks; `Range: bytes=a-b` answers 206 (how the client resumes a broken download). Served
  directly (200), never redirected to a CDN, no Xet headers: the client downloads over plain HTTP.
- 404s carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound), from which
  hf_raise_for_status raises RepositoryNotFoundError etc.; without it a missing file would end
  as LocalEntryNotFoundError ("check your connection").
Run alone (e.g. for `docker build`):
    python -m reranker.testing.fake_hub org/model=DIR [--host 172.17.0.1] [--port 8000]
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".onnx", ".onnx_data", ".pt", ".h5", ".msgpack",
                ".model", ".gguf")
LFS_MIN_SIZE, CHUNK = 10 << 20, 1 << 20


class _Repo:
    def __init__(self, root: Path) -> None:
        self.root, self._meta, self._lock = Path(root), {}, threading.Lock()

    def files(self) -> list[str]:
        names = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(n for n in names if not n.startswith((".git/", ".cache/")))

    def meta(self, name: str) -> dict:
        """size, oid, etag and lfs of a file, hashed once (in 1 MB chunks) until it changes."""
        st = (self.root / name).stat()
        key = (name, st.st_size, st.st_mtime_ns)
        lfs = name.endswith(LFS_SUFFIXES) or st.st_size >= LFS_MIN_SIZE
        with self._lock:
            if key not in self._meta:
                digest = hashlib.sha256() if lfs else hashlib.sha1(b"blob %d\0" % st.st_size)
                with open(self.root / name, "rb") as f:
                    while chunk := f.read(CHUNK):
                        digest.update(chunk)
                meta = {"size": st.st_size, "oid": digest.hexdigest(),
                        "etag": digest.hexdigest(), "lfs": None}
                if lfs:  # git stores the LFS pointer file
                    pointer = (f"version https://git-lfs.github.com/spec/v1\n"
                               f"oid sha256:{meta['etag']}\nsize {st.st_size}\n")
                    blob = b"blob %d\0%s" % (len(pointer), pointer.encode())
                    meta["oid"] = hashlib.sha1(blob).hexdigest()
                    meta["lfs"] = {"oid": meta["etag"], "size": st.st_size,
                                   "pointerSize": len(pointer)}
                self._meta[key] = meta
            return self._meta[key]

    def commit(self, files: list[str]) -> str:
        listing = "".join(f"{n} {self.meta(n)['etag']}\n" for n in files)
        return hashlib.sha1(listing.encode()).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length

    def log_message(self, *args) -> None:  # quiet: hub.log records the requests
        pass

    def do_GET(self) -> None:
        hub, url = self.server.hub, urlsplit(self.path)
        hub.log.append((self.command, self.path, self.headers.get("Range")))
        hub.authorizations.append(self.headers.get("Authorization"))
        api = url.path.startswith("/api/models/")
        rest = url.path[len("/api/models/") if api else 1:]
        repo_id = next((r for r in sorted(hub.repos, key=len, reverse=True)
                        if (rest + "/").startswith(r + "/")), None)
        authorization = self.headers.get("Authorization")
        if hub.outage:
            return self._send(hub.outage, {"Content-Type": "text/plain"}, b"hub unavailable")
        if repo_id is None:  # as the hub: 401 to an anonymous request (it may be private)
            return self._error(404 if authorization else 401, "RepoNotFound",
                               "Repository not found")
        token = hub.gated.get(repo_id)
        if token and not authorization:
            return self._error(401, "GatedRepo", f"Access to model {repo_id} is restricted. "
                               "You must have access to it and be authenticated to access it. "
                               "Please log in.")
        if token and authorization != f"Bearer {token}" and not api:
            return self._error(403, "GatedRepo", f"Access to model {repo_id} is restricted "
                               "and you are not in the authorized list. Visit "
                               f"https://huggingface.co/{repo_id} to ask for access.")
        history, rest = hub.repos[repo_id], rest[len(repo_id) + 1:]
        m = re.fullmatch(r"(?:(tree|revision)/([^/]+)/?(.*))?" if api
                         else r"resolve/([^/]+)/(.+)", rest)
        if m is None:
            return self._error(404, "EntryNotFound", "Not found")
        found = history.at(unquote(m.group(2 if api else 1) or "main"))
        if found is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        repo, files, commit = found
        if not api:
            return self._file(repo, unquote(m.group(2)), files, commit)
        if m.group(1) != "tree":
            return self._json({"id": repo_id, "modelId": repo_id, "sha": commit,
                               "private": False, "gated": "manual" if token else False,
                               "disabled": False, "tags": [],
                               "siblings": [{"rfilename": n} for n in files]})
        base, query = unquote(m.group(3)).strip("/"), parse_qs(url.query)
        dirs = {"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)}
        if base and base not in dirs:
            return self._error(404, "EntryNotFound", f"{base} does not exist on main", commit)
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        prefix = base + "/" if base else ""
        names = [n for n in sorted(dirs | set(files))
                 if n.startswith(prefix) and (recursive or "/" not in n[len(prefix):])]
        cursor, headers = int(query.get("cursor", ["0"])[0]), {}
        if cursor + hub.page_size < len(names):
            next_query = urlencode({"recursive": recursive, "cursor": cursor + hub.page_size})
            headers["Link"] = f'<http://{self.headers["Host"]}{url.path}?{next_query}>; rel="next"'
        self._json([self._entry(repo, n, dirs) for n in names[cursor:cursor + hub.page_size]],
                   headers)

    @staticmethod
    def _entry(repo: _Repo, name: str, dirs: set[str]) -> dict:
        if name in dirs:
            return {"type": "directory", "oid": hashlib.sha1(name.encode()).hexdigest(),
                    "path": name}
        meta = {k: v for k, v in repo.meta(name).items() if k != "etag"}
        return {"type": "file", "path": name, **meta}

    do_HEAD = do_GET

    def _file(self, repo: _Repo, name: str, files: list[str], commit: str) -> None:
        if name not in files:  # also refuses "../" escapes
            return self._error(404, "EntryNotFound", "Entry not found", commit)
        if self.server.hub.on_file and self.command == "GET":
            self.server.hub.on_file(name)  # a test's hook: e.g. a push between two files
        meta = repo.meta(name)
        size, start, end, status = meta["size"], 0, meta["size"] - 1, 200
        headers = {"X-Repo-Commit": commit, "ETag": f'"{meta["etag"]}"',
                   "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if meta["lfs"]:
            headers.update({"X-Linked-Etag": f'"{meta["etag"]}"', "X-Linked-Size": str(size)})
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if m and any(m.groups()):
            a, b = m.groups()
            start, end = ((int(a), min(int(b or end), end)) if a
                          else (max(size - int(b), 0), end))
            if start > end:
                return self._send(416, {**headers, "Content-Range": f"bytes */{size}"}, b"")
            status, headers["Content-Range"] = 206, f"bytes {start}-{end}/{size}"
        self._send(status, {**headers, "Content-Length": str(end - start + 1)})
        if self.command == "GET":
            with open(repo.root / name, "rb") as f:
                f.seek(start)
                left, sent = end - start + 1, 0
                try:
                    while left > 0 and (chunk := f.read(min(CHUNK, left))):
                        self.wfile.write(chunk)
                        left, sent = left - len(chunk), sent + len(chunk)
                        time.sleep(self.server.hub.slow)
                        while (self.server.hub.hold_after or float("inf")) <= sent:
                            time.sleep(0.05)
                except ConnectionError:  # the client hung up (it resumes with a Range)
                    self.close_connection = True

    def _json(self, data, headers: dict | None = None) -> None:
        self._send(200, {"Content-Type": "application/json", **(headers or {})},
                   json.dumps(data).encode())

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message,
                   "Content-Type": "application/json"}
        self._send(status, {**headers, **({"X-Repo-Commit": commit} if commit else {})},
                   json.dumps({"error": message}).encode())

    def _send(self, status: int, headers: dict, body: bytes | None = None) -> None:
        self.send_response(status)
        length = {} if body is None else {"Content-Length": str(len(body))}
        for key, value in {**headers, **length}.items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)


class _History:
    """A repository's commits, newest first: "main" is the newest, any commit by its id."""

    def __init__(self, root: Path) -> None:
        self.commits: list[tuple[_Repo, list[str], str]] = []
        self.push(root)

    def push(self, root: Path) -> str:
        repo = _Repo(root)
        files = repo.files()  # hashed now, so that no request waits for 2 GB of sha256
        commit = repo.commit(files)
        self.commits.insert(0, (repo, files, commit))
        return commit

    def at(self, revision: str) -> tuple[_Repo, list[str], str] | None:
        if revision == "main":
            return self.commits[0]
        return next((c for c in self.commits if c[2] == revision), None)


class FakeHub:
    """Serves {"org/name": directory} on host:port (port 0: a free one) from a thread while
    entered; `gated` repositories (repo -> token) only to that token; over HTTPS with `tls`
    (a certificate file and its key file)."""

    def __init__(self, repos: dict[str, Path], host: str = "127.0.0.1", port: int = 0,
                 page_size: int = 1000, gated: dict[str, str] | None = None,
                 tls: tuple[Path, Path] | None = None):
        self.repos = {repo_id: _History(path) for repo_id, path in repos.items()}
        self.gated = dict(gated or {})
        self.page_size = page_size
        self.log: list[tuple] = []  # (method, path?query, Range header) of every request
        self.authorizations: list[str | None] = []  # each request's Authorization header
        self.on_file = None  # called with a file's name before it is served (GET)
        self.outage: int | None = None  # a status (503) every request answers, while set
        self.slow = 0.0  # seconds slept after each 1 MB of a file (a slow connection)
        self.hold_after: int | None = None  # bytes after which a file's download waits
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads, self._server.hub = True, self
        if tls:  # (certificate, key): HTTPS, as behind a TLS-inspecting proxy
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, tls))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host, self.port = host, self._server.server_address[1]
        self.url = (f"{'https' if tls else 'http'}://"
                    f"{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{self.port}")
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def push(self, repo_id: str, root: Path) -> str:
        """A new commit of `repo_id` holding the files of `root`; its id."""
        return self.repos[repo_id].push(root)

    def commit(self, repo_id: str, revision: str = "main") -> str:
        return self.repos[repo_id].at(revision)[2]

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hold_after = None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", metavar="ORG/NAME=DIR")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    repos = {r: Path(d) for r, d in (a.split("=", 1) for a in args.repos)}
    with FakeHub(repos, args.host, args.port) as hub:
        print(f"serving {', '.join(hub.repos)} at http://{hub.host}:{hub.port}", flush=True)
        threading.Event().wait()
