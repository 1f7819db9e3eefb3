"""Converting legacy documents (.doc and kin) to .docx with LibreOffice, into a copy.

qualkit never reads .doc itself: LibreOffice's converter is the well-kept tool for it. The
original is never touched; the .docx is written next to it (``old.doc`` -> ``old.docx``) and then
read in its place.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from qualkit.errors import TranscriptError
from qualkit.io.atomic import atomic_write_bytes

__all__ = ["convert_to_docx", "find_soffice"]

TIMEOUT_SECONDS = 120


def find_soffice() -> str | None:
    """The LibreOffice command on PATH (``soffice`` or ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(path: str | Path, soffice: str | None = None) -> Path:
    """Convert ``path`` to ``<same name>.docx`` beside it with LibreOffice; returns the new file.

    The conversion runs in a private temporary folder, so a failed or partial conversion leaves
    nothing behind; an existing .docx of that name is never overwritten.
    """
    path = Path(path)
    target = path.with_suffix(".docx")
    if target.exists():
        raise TranscriptError(f"not converted: {target.name} already exists", path)
    soffice = soffice or find_soffice()
    if soffice is None:
        raise TranscriptError("LibreOffice (soffice) is not on PATH: install it, or save the file as .docx from Word", path)
    with tempfile.TemporaryDirectory(prefix="qualkit-convert-") as tmp:
        # A private profile: a LibreOffice window the user has open must not block the conversion.
        profile = Path(tmp, "profile").as_uri()
        cmd = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "docx", "--outdir", tmp, str(path)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TranscriptError(f"LibreOffice could not convert it ({type(exc).__name__})", path) from None
        made = Path(tmp, target.name)
        if done.returncode != 0 or not made.is_file():
            detail = (done.stderr or done.stdout or "").strip().splitlines()
            raise TranscriptError("LibreOffice could not convert it" + (f" ({detail[-1]})" if detail else ""), path)
        atomic_write_bytes(target, made.read_bytes())
    return target
