"""Taguette's own 'Import codebook' on qualkit's taguette-csv export of the sample study's codebooks.

Starts a local Taguette (``taguette`` on PATH, or TAGUETTE=/path/to/taguette) bound to 127.0.0.1
with a throw-away database, creates one project per codebook, uploads the CSV through the same
form a user fills in, confirms every tag, then downloads Taguette's own codebook export and reads
it back with qualkit. Prints what came through. Skipped (exit 0) when Taguette is not installed;
every request is bounded by a timeout and the server is stopped at the end. Not a test.

    pip install taguette            # in its own virtual environment is best
    TAGUETTE=.venv-taguette/bin/taguette python bench/taguette_import.py
"""
from __future__ import annotations

import html
import http.cookiejar
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(exe: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str, str, Path]:
    port, db = free_port(), tmp / "taguette.sqlite3"
    log = (tmp / "server.log").open("wb")
    env = {**os.environ, "HOME": str(tmp)}
    proc = subprocess.Popen([exe, "--no-browser", "-b", "127.0.0.1", "-p", str(port), "--database", str(db)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(60):
        time.sleep(0.5)
        m = re.search(r"token=([0-9a-f]+)", (tmp / "server.log").read_text(errors="replace"))
        if m:
            return proc, f"http://127.0.0.1:{port}", m.group(1), db
    proc.terminate()
    raise SystemExit("Taguette did not start; see " + str(tmp / "server.log"))


def import_codebook(base: str, token: str, csv_path: Path) -> tuple[str, int, bytes]:
    """Upload and confirm; returns the project id, the tags Taguette listed, and its own export."""
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def xsrf() -> str:
        return next(c.value for c in jar if c.name == "_xsrf") or ""

    op.open(f"{base}/?token={token}", timeout=TIMEOUT).read()
    op.open(f"{base}/project/new", timeout=TIMEOUT).read()
    form = urllib.parse.urlencode({"name": csv_path.stem, "description": "", "_xsrf": xsrf()}).encode()
    r = op.open(f"{base}/project/new", form, timeout=TIMEOUT)
    pid = re.search(r"/project/(\d+)", r.geturl()).group(1)  # type: ignore[union-attr]
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="_xsrf"\r\n\r\n{xsrf()}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{csv_path.name}"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + csv_path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{base}/project/{pid}/import_codebook", body,
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        page = op.open(req, timeout=TIMEOUT).read().decode()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"Taguette refused {csv_path.name}: HTTP {exc.code}") from None
    paths = [html.unescape(v) for v in re.findall(r'name="tag\d+-path" value="([^"]*)"', page)]
    descs = [html.unescape(v) for v in re.findall(r'name="tag\d+-description" value="([^"]*)"', page)]
    confirm = {"_xsrf": xsrf()}
    for i, (p, d) in enumerate(zip(paths, descs)):
        confirm.update({f"tag{i}-path": p, f"tag{i}-description": d, f"tag{i}-import": "1"})
    op.open(f"{base}/project/{pid}/import_codebook", urllib.parse.urlencode(confirm).encode(), timeout=TIMEOUT).read()
    exported = op.open(f"{base}/project/{pid}/export/codebook.csv", timeout=TIMEOUT).read()
    return pid, len(paths), exported


def main() -> int:
    exe = os.environ.get("TAGUETTE") or shutil.which("taguette")
    if not exe:
        print("skipped: Taguette is not installed (pip install taguette, or set TAGUETTE=/path/to/taguette)")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import qualkit
    from qualkit.refiqda.codebook_formats import read_taguette_csv
    from qualkit.workspace.scaffold import demo

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ws = qualkit.Workspace(demo(tmp / "study"))
        proc, base, token, db = start(exe, tmp)
        try:
            for book in ws.codebooks():
                csv_path = tmp / f"{book.id}.csv"
                ws.export_codebook(csv_path, "taguette-csv", book.id)
                pid, listed, exported = import_codebook(base, token, csv_path)
                with sqlite3.connect(db) as con:
                    rows = con.execute("select path, description from tags where project_id=?", (pid,)).fetchall()
                back_path = tmp / f"{book.id}.from-taguette.csv"
                back_path.write_bytes(exported)
                back, _ = read_taguette_csv(back_path)
                active = [c for c in book.codes if c.status == "active"]
                print(f"{book.id}: {len(active)} active codes exported; Taguette listed {listed}, stored {len(rows)} "
                      f"tags ({sum(1 for _, desc in rows if desc)} with a description, "
                      f"{sum(1 for p, _ in rows if '.' in p)} nested); its export read back by qualkit: "
                      f"{len(back.codes)} codes, {sum(1 for c in back.codes if c.parent)} with a parent")
        finally:
            proc.terminate()
            proc.wait(timeout=TIMEOUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
