"""A derived on-disk cache of parsed transcripts: .qualkit/cache/transcripts.sqlite.

A second command on an unchanged study reads each transcript's parsed text and turns from here
instead of decoding and segmenting the file again. Every entry is keyed by what the parse depends
on: the file (path, mtime, size), the workspace's speaker rules and qualkit's version, so an edited
file or changed setting is simply a miss; a full ingest then prunes the entries of files removed or
changed since (:meth:`TranscriptCache.prune`), so the file does not grow with every edit. The cache is rebuildable (delete the folder at any time),
git-ignored (.qualkit/), safe under concurrent readers and writers (SQLite in WAL mode; a busy or
unwritable database is a miss, never an error), and holds JSON, never pickles. Entries are stored
uncompressed (the text as UTF-8, the turns a column per field, numbers packed, the word count with them): reading one
back is the cost a second command pays for every transcript, and decompressing doubled it. A plain-text file read
as it is (UTF-8 that reading changes in nothing: most transcripts) is not copied into the cache at all: its entry keeps
the CRC-32 of its bytes, and its text is read back from the file, checked against that CRC (a file changed behind
an unchanged mtime and size is then a miss, not a text that no longer matches its turns). Writing the texts was a
tenth of a cold ingest, and a cache that holds no copy of a study's words is one less place they are kept.

Each entry begins with a small header (:class:`TranscriptHead`: format, counts, speaker labels and
the text above the first labelled turn), read by :meth:`TranscriptCache.head` without decoding the
turns or the text: a pass that wants only such facts of every transcript (interview dates for
saturation and the report) reads a few hundred bytes each, not the whole parse.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import zlib
from array import array
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from qualkit.transcripts.model import TURN_COLUMNS, Parsed, Transcript, Turn

__all__ = ["CACHE_DIR", "HEAD_CHARS", "CacheStore", "TranscriptCache", "TranscriptHead", "open_cache_db", "pack", "unpack"]

_T = TypeVar("_T")
CACHE_DIR = Path(".qualkit") / "cache"
# Entries are interviews of tens of KB: in pages of 16 KiB, writing a study's entries (each to the WAL, then
# copied into the file) took a quarter less time than in SQLite's default 4 KiB.
_PAGE_SIZE = 16384
_BATCH = 64  # entries per transaction in a batch: short enough that other writers never wait long
_SCHEMA = 6  # bump when the stored form or the parser's output changes without a version bump
# Each entry names its file and the file's state (mtime, size), so that a prune finds the entries of files
# removed or changed without decoding any; the table before them (no file column) is dropped.
_TABLES = ("CREATE TABLE IF NOT EXISTS parsed (key TEXT PRIMARY KEY, file TEXT NOT NULL, state TEXT NOT NULL, "
           "data BLOB NOT NULL)", "DROP TABLE IF EXISTS transcripts")


def open_cache_db(path: Path, tables: tuple[str, ...], page_size: int | None = None) -> sqlite3.Connection | None:
    """A derived SQLite store under .qualkit/cache/ (WAL, safe under concurrent readers), with
    ``tables`` created; None when it cannot be opened, which callers treat as a miss. A file that is
    not a database (overwritten or truncated) is removed and started afresh, once. ``page_size``: of a
    new file (one that exists keeps its own)."""
    for attempt in (1, 2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=2.0, isolation_level=None)
            if page_size:
                db.execute(f"PRAGMA page_size={int(page_size)}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # derived: losing the last entries costs recomputing them
            for sql in tables:
                db.execute(sql)
            return db
        except sqlite3.DatabaseError as exc:
            if attempt == 1 and "not a database" in str(exc):
                for f in (path, *path.parent.glob(path.name + "-*")):
                    f.unlink(missing_ok=True)
                continue
            return None
        except (sqlite3.Error, OSError):
            return None
    return None


class CacheStore:
    """One derived SQLite store under .qualkit/cache/, opened on first use; one that cannot be opened
    stays closed for this object, and its owner reads that as a miss."""

    def __init__(self, path: Path, tables: tuple[str, ...], page_size: int | None = None):
        self.path = path
        self._tables = tables
        self._page_size = page_size
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            self._db = open_cache_db(self.path, self._tables, self._page_size)
            self._broken = self._db is None
        return self._db

    def close(self) -> None:
        """Close the connection, if one is open (the next use opens another)."""
        if self._db is not None:
            self._db.close()
            self._db = None


class TranscriptCache(CacheStore):
    """Parsed transcripts by key; every failure (locked, read-only, corrupt) reads as a miss."""

    def __init__(self, root: Path):
        super().__init__(Path(root) / CACHE_DIR / "transcripts.sqlite", _TABLES, _PAGE_SIZE)
        self._batch = 0  # puts left in the open transaction (see begin_batch)

    @staticmethod
    def key(path: Path, stamp: tuple, settings: Any) -> str:
        """What a parse depends on, hashed: the file's path and state, the reader settings, and the
        parser itself (qualkit's version and the state of its reader modules' source files)."""
        if not _KEY_HEAD:  # the parser's part, the same for every file: encoded once
            from qualkit import __version__

            _KEY_HEAD.append(json.dumps([_SCHEMA, __version__, _parser_stamp()], default=str)[:-1] + ", ")
        # (the JSON of [schema, version, parser, where, state, settings] as one list)
        # (the path as named too, not only where it leads: two links to one file are two transcripts, with two ids)
        named = os.path.abspath(path)
        raw = _KEY_HEAD[0] + _KEY_JSON.encode([TranscriptCache.where(path), named, list(stamp), settings])[1:]
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    @staticmethod
    def where(path: Path) -> str:
        """The file an entry is of, as entries name it (found once per process: a command asks for each
        file's key, its entry and its prune, and a worker forked after the keys knows them all)."""
        path = path if isinstance(path, Path) else Path(path)
        return _where(path) if path.is_absolute() else str(path.resolve() if path.is_symlink() else path.absolute())

    def _select(self, key: str, column: str, convert: Callable[[Any], _T]) -> _T | None:
        """``convert`` of ``column`` of the entry under ``key``; None when there is none or it is unreadable."""
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute(f"SELECT {column} FROM parsed WHERE key = ?", (key,)).fetchone()
            return convert(row if len(row) > 1 else row[0]) if row else None
        except (sqlite3.Error, ValueError, KeyError, TypeError, IndexError, OSError):
            return None

    def get(self, key: str) -> Transcript | None:
        return self._select(key, "data, file", lambda row: _decode(*row))

    def get_text(self, key: str) -> str | None:
        """Only the text of the entry under ``key`` (its turns and metadata are not decoded: a
        quarter of the cost of :meth:`get`, for a reader that wants the words alone)."""
        return self._select(key, "data, file", lambda row: _text(*row))

    def summary(self, key: str) -> tuple[TranscriptHead, list[str], list[str | None]] | None:
        """(header, the parse's warnings, each turn's speaker label) of the entry under ``key``, no Turn
        made and no other column decoded: what `qualkit ingest` reports of a file whose parse the cache
        holds (a tenth of the cost of :meth:`get`). None where :meth:`get` gives None: no entry, an
        unreadable one, or a file whose bytes are no longer those its entry was made of."""
        return self._select(key, "data, file", lambda row: _summary(*row))

    def head(self, key: str) -> TranscriptHead | None:
        """The header of the entry under ``key`` (None: no entry, or unreadable), its turns and text
        not decoded: the bytes up to the entry's first NUL are all that is read into Python."""
        return self._select(key, "substr(data, 1, instr(data, x'00') - 1)", lambda b: TranscriptHead(*json.loads(b)))

    def held(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` the cache holds (one query per 500 keys, nothing decoded)."""
        db = self._connect()
        out: set[str] = set()
        if db is None:
            return out
        try:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                marks = ",".join("?" * len(part))
                out.update(r[0] for r in db.execute(f"SELECT key FROM parsed WHERE key IN ({marks})", part))
        except sqlite3.Error:
            return set()
        return out

    def put(self, key: str, transcript: Transcript | None, path: Path, stamp: tuple, data: bytes | None = None) -> bool:
        """Keep ``transcript``, parsed from ``path`` in state ``stamp``, under ``key`` (``data``: its
        :func:`pack`, when the caller has it already; then ``transcript`` may be None). False when
        it could not be written (a busy, read-only or broken cache)."""
        db = self._connect()
        if db is None:
            return False
        written = True
        try:
            if self._batch and not db.in_transaction:
                db.execute("BEGIN")
            if data is None:
                assert transcript is not None
                data = pack(transcript)
            db.execute("INSERT OR REPLACE INTO parsed (key, file, state, data) VALUES (?, ?, ?, ?)",
                       (key, self.where(path), json.dumps(list(stamp)), data))
        except sqlite3.Error:
            written = False
        if self._batch:
            self._batch -= 1
            if not self._batch:
                self.end_batch()
                self._batch = _BATCH
        return written

    def begin_batch(self) -> None:
        """Write the entries put from now on in transactions of a few dozen (a commit per entry was a
        third of the time of writing a study's entries) until :meth:`end_batch`. Entries of a batch
        not ended (the process stopped) are simply not kept."""
        self._batch = _BATCH

    def end_batch(self) -> None:
        """Commit what :meth:`begin_batch` left open; each entry is written on its own from here on."""
        self._batch = 0
        db = self._db
        if db is not None and db.in_transaction:
            try:
                db.execute("COMMIT")
            except sqlite3.Error:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def prune(self, files: dict[Path, tuple]) -> int:
        """Delete the entries of files removed or changed: every file not in ``files`` (each file of
        transcripts/ with its state now) or in another state. Entries of other settings or qualkit
        versions for a file as it is stay (switching back is a hit). Reads no parsed data, so it costs
        milliseconds; the space is reused by later entries, and given back to the disk (VACUUM) once
        over half the file is free. Returns how many entries went."""
        db = self._connect()
        if db is None:
            return 0
        now = {self.where(p): json.dumps(list(stamp)) for p, stamp in files.items()}
        try:
            stale = [k for k, f, state in db.execute("SELECT key, file, state FROM parsed") if now.get(f) != state]
            for i in range(0, len(stale), 500):
                part = stale[i:i + 500]
                db.execute(f"DELETE FROM parsed WHERE key IN ({','.join('?' * len(part))})", part)
            free, pages = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("freelist_count", "page_count"))
            if free * 2 > pages:  # (also after the old table was dropped)
                db.execute("VACUUM")
        except sqlite3.Error:
            return 0
        return len(stale)


@lru_cache(maxsize=65536)
def _where(path: Path) -> str:
    """TranscriptCache.where of an absolute ``path`` (a relative one depends on the folder the process is in)."""
    return str(path.resolve() if path.is_symlink() else path)  # resolve() costs a stat per folder


_PARSER_STAMP: list[Any] = []
_KEY_HEAD: list[str] = []


def _parser_stamp() -> list[Any]:
    """(name, mtime, size) of the reader's source files, once per process: an edited parser is a miss."""
    if not _PARSER_STAMP:
        import qualkit.io.textdecode as textdecode
        import qualkit.transcripts as transcripts

        files = sorted(Path(transcripts.__file__).parent.glob("*.py")) + [Path(textdecode.__file__)]
        for f in files:
            st = f.stat()
            _PARSER_STAMP.append([f.name, st.st_mtime_ns, st.st_size])
    return _PARSER_STAMP


def pack(transcript: Transcript | Parsed) -> bytes:
    """``transcript`` as the cache stores it (its word count with it): what a worker process sends back.
    A :class:`~qualkit.transcripts.model.Parsed` gives the same bytes as its Transcript would."""
    return _encode(transcript if isinstance(transcript, Parsed) else Parsed.of(transcript))


def unpack(data: bytes, path: Path) -> Transcript | None:
    """The Transcript :func:`pack` gave ``data`` for, parsed from the file ``path`` (None: a text kept
    as the file's own no longer matches it)."""
    return _decode(data, str(path))


HEAD_CHARS = 4000  # the most of a transcript's opening text a header keeps


@dataclass(frozen=True)
class TranscriptHead:
    """What a transcript's cache entry says about it before its turns and text: a metadata pass
    reads this instead of the whole parse (:meth:`TranscriptCache.head`).

    ``labels``: each distinct speaker label (None for unlabelled turns) in order of first turn;
    ``lead``: where the first labelled turn starts (None: no labelled turn); ``chars``: the text's
    length; ``head``: the text up to ``lead`` (all of it, or its start without a labelled turn), at
    most :data:`HEAD_CHARS` characters."""

    id: str
    source_format: str
    encoding: str | None
    turns: int
    words: int
    labels: tuple[str | None, ...]
    lead: int | None
    chars: int
    head: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))  # a list when read back from JSON

    @classmethod
    def of_parsed(cls, p: Parsed) -> TranscriptHead:
        """:meth:`of` the Transcript of ``p``, read from its columns."""
        return cls(*_head_values(p))

    @classmethod
    def of(cls, t: Transcript) -> TranscriptHead:
        """The header of a transcript in hand."""
        lead = next((turn.start for turn in t.turns if turn.speaker), None)
        end = min(len(t.text) if lead is None else lead, HEAD_CHARS)
        labels = tuple(dict.fromkeys(turn.speaker for turn in t.turns))
        return cls(t.id, t.source_format, t.encoding, len(t.turns), t.word_count, labels, lead, len(t.text), t.text[:end])

    def before_first_turn(self, limit: int | None = None) -> str | None:
        """The text above the first labelled turn; without one, the first ``limit`` characters (all
        the text when ``limit`` is None). None when that is more than this header holds: read the
        transcript itself then."""
        end = self.lead if self.lead is not None else self.chars if limit is None else min(limit, self.chars)
        return self.head[:end] if end <= len(self.head) else None


def _head_values(p: Parsed) -> list[Any]:
    """The fields of the :class:`TranscriptHead` of ``p`` in order, as an entry's header lists them."""
    speakers, starts = (p.columns[0], p.columns[1]) if p.columns else ([], [])
    lead = next((start for speaker, start in zip(speakers, starts) if speaker), None)
    end = min(len(p.text) if lead is None else lead, HEAD_CHARS)
    return [p.id, p.source_format, p.encoding, len(speakers), p.word_count, list(dict.fromkeys(speakers)), lead,
            len(p.text), p.text[:end]]


# Encoders made once (json.dumps with any argument of its own builds a new one at every call).
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
_KEY_JSON = json.JSONEncoder(default=str)
_TURN_FIELDS = [f.name for f in fields(Turn)][1:]  # every field but ``index`` (its position)
assert tuple(_TURN_FIELDS) == TURN_COLUMNS


def _encode(p: Parsed) -> bytes:
    """``head JSON \x00 meta JSON \x00 text``: the header (:class:`TranscriptHead`, its fields as a
    list), the text as UTF-8 (no escaping), the turns as one entry per field (:func:`_pack_column`) and
    their number. JSON written with ``ensure_ascii`` holds no NUL, so the first two NULs are the cuts.
    The text is tagged: ``T`` and the text itself, or, for a text that is its file's bytes as they are
    (``p.as_is``), ``C`` and the CRC-32 of those bytes in decimal (a tag, since a text may begin with
    any character: an RTF's may even begin with a NUL)."""
    record: dict[str, Any] = {"id": p.id, "source_format": p.source_format, "encoding": p.encoding, "warnings": p.warnings,
                              "path": str(p.path) if p.path is not None else None, "layout": p.layout,
                              "n": p.turn_count, "turns": list(map(_pack_column, p.columns)),
                              "words": p.word_count}  # (words counted once, when the file is parsed)
    meta = _COMPACT_JSON.encode(record)
    head = _COMPACT_JSON.encode(_head_values(p))
    if p.as_is:
        text = b"C%d" % zlib.crc32(p.text.encode("utf-8"))
    else:
        text = b"T" + p.text.encode("utf-8")
    return b"".join((head.encode("ascii"), b"\x00", meta.encode("ascii"), b"\x00", text))


_SWAP = sys.byteorder != "little"  # (columns are stored little-endian)


def _pack_column(column: list) -> Any:
    """One column of the turns as an entry stores it: None when every value is None (a plain-text file's
    times and participants), whole numbers (offsets, lines) as the base64 of their 32-bit little-endian
    array, labels (few, each on many turns) as ``[distinct labels, base64 of each turn's index among
    them]``, anything else as its JSON list. Encoded and decoded at C speed: a long interview has a few
    hundred turns, and its numbers and labels as JSON were most of the cost of writing and reading its turns."""
    if not column or (column[0] is None and column.count(None) == len(column)):
        return None
    try:  # (first: comparing each number with None, as list.count(None) does, cost more than the packing)
        return _packed(array("i", column))
    except (TypeError, OverflowError):  # (a label, a time, None, a number past 32 bits)
        pass
    distinct = list(dict.fromkeys(column))
    if len(distinct) * 4 > len(column) or not all(isinstance(x, str) or x is None for x in distinct):
        return column  # (times; a column of labels each said once or twice is no shorter as indices)
    return [distinct, _packed(array("i", map({label: i for i, label in enumerate(distinct)}.__getitem__, column)))]


def _packed(numbers: array) -> str:
    if _SWAP:
        numbers.byteswap()
    return b64encode(numbers).decode("ascii")


def _numbers(stored: str) -> array:
    numbers = array("i", b64decode(stored))
    if _SWAP:
        numbers.byteswap()
    return numbers


def _unpack_column(stored: Any, n: int) -> list:
    """The column :func:`_pack_column` stored as ``stored``, of ``n`` turns."""
    if stored is None:
        return [None] * n
    if isinstance(stored, str):
        return _numbers(stored).tolist()
    if len(stored) == 2 and isinstance(stored[0], list) and isinstance(stored[1], str):  # (labels and their indices)
        return list(map(stored[0].__getitem__, _numbers(stored[1])))
    return stored


def _parts(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """An entry's header JSON, meta JSON and stored text (see :func:`_encode`): cut at its first two NULs."""
    start = blob.index(b"\x00") + 1  # after the header
    cut = blob.index(b"\x00", start)
    return blob[:start - 1], blob[start:cut], blob[cut + 1:]


def _text(blob: bytes, file: str) -> str | None:
    """The text of an entry alone: what follows its second NUL (see :func:`_encode`), or its file's."""
    return _stored_text(_parts(blob)[2], file)


def _stored_text(stored: bytes, file: str) -> str | None:
    """The text an entry stores as ``stored`` (see :func:`_encode`): after a ``T``, itself in UTF-8;
    after a ``C``, the bytes of ``file`` when they still have that CRC-32 (else None: the file changed
    or cannot be read now, and the entry is a miss)."""
    tag = stored[:1]
    if tag == b"T":
        return bytes(stored[1:]).decode("utf-8")
    data = _file_as_stored(stored, file)
    return data.decode("utf-8") if data is not None else None


def _file_as_stored(stored: bytes, file: str) -> bytes | None:
    """The bytes of ``file`` when an entry stores its text as ``C`` and their CRC-32 (``stored``) and
    they still have it; None when they do not (the file changed) or cannot be read now."""
    if stored[:1] != b"C":
        raise ValueError("not a transcript cache entry's text")
    try:
        with open(file, "rb") as fh:
            data = fh.read()
    except OSError:  # (removed, renamed or locked since the entry was written)
        return None
    return data if zlib.crc32(data) == int(stored[1:]) else None


def _summary(blob: bytes, file: str) -> tuple[TranscriptHead, list[str], list[str | None]] | None:
    """See :meth:`TranscriptCache.summary`: the header, the warnings and the speakers column of an entry."""
    head, meta, stored = _parts(blob)
    if stored[:1] != b"T" and _file_as_stored(stored, file) is None:
        return None
    record = json.loads(meta)
    speakers = _unpack_column(record["turns"][0], record["n"]) if record["turns"] else []
    return TranscriptHead(*json.loads(head)), record["warnings"], speakers


def _decode(blob: bytes, file: str) -> Transcript | None:
    _head, meta, stored = _parts(blob)
    text = _stored_text(stored, file)
    if text is None:
        return None
    record = json.loads(meta)
    n = record.pop("n")
    columns = [_unpack_column(stored, n) for stored in record.pop("turns")]
    words = record.pop("words")
    record["turns"] = list(map(Turn, range(n), *columns))
    record["text"] = text
    record["path"] = Path(record["path"]) if record["path"] is not None else None
    t = Transcript(**record)
    t.remember_word_count(words)
    return t
