"""Word 97–2003 .doc and Kingsoft WPS .wps → text with heading styles, through LibreOffice.

Both are OLE2 compound files holding the Word binary format (WPS 文字 writes the same format
under its own suffix); officials' ".doc" files are also often RTF. Headless LibreOffice
(Debian's libreoffice-writer-nogui) converts the file to .docx, and the .docx loader reads that,
so Word heading styles become sections exactly as for .docx. antiword and catdoc are far lighter
but give plain text without heading styles (and antiword refuses small files): see the ingest
section of docs/benchmarks.md for the measurements behind this choice.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ingest.load import Loaded
from ingest.records import IngestError

SOFFICE = ("soffice", "libreoffice")
PACKAGE = "libreoffice-writer-nogui"
TIMEOUT_S = 180
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def converter() -> str | None:
    """The LibreOffice command on PATH, or None."""
    return next((exe for exe in map(shutil.which, SOFFICE) if exe), None)


def load_word97(data: bytes, fmt: str, path: str) -> Loaded:
    from ingest.docx import load_docx

    if data.startswith(b"PK\x03\x04"):  # a .docx saved under the old suffix
        loaded = load_docx(data, path)
        loaded.fmt = fmt
        return loaded
    if not (data.startswith(OLE2) or data.lstrip()[:5] == b"{\\rtf"):
        raise IngestError(path, f"not a Word 97–2003 .{fmt} file (no OLE2 or RTF header)")
    exe = converter()
    if exe is None:
        raise IngestError(path, f"cannot read .{fmt} files: LibreOffice is not installed "
                                f"(apt-get install {PACKAGE})")
    with tempfile.TemporaryDirectory(prefix="kb-word97-") as tmp:
        src = Path(tmp) / f"in.{fmt}"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        # a private profile: concurrent conversions would otherwise fight over ~/.config/libreoffice
        cmd = [exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out), str(src)]
        log = _run(cmd, path, fmt)
        result = out / "in.docx"
        if not result.exists():
            errors = [ln.strip() for ln in log.splitlines() if ln.strip().lower().startswith("error")]
            why = (errors or [ln.strip() for ln in log.splitlines() if ln.strip()] or ["no output"])[-1][:160]
            raise IngestError(path, f"LibreOffice could not convert this .{fmt} file (damaged or password-"
                                    f"protected?): {why}")
        loaded = load_docx(result.read_bytes(), path)
    loaded.fmt = fmt
    return loaded


def _run(cmd: list[str], path: str, fmt: str) -> str:
    """Run LibreOffice in its own process group, so a timeout also ends the soffice.bin it starts."""
    env = {**os.environ, "SAL_USE_VCLPLUGIN": "svp"}  # no display needed
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise IngestError(path, f"LibreOffice took more than {TIMEOUT_S} s to convert this .{fmt} file") from None
    return out.decode("utf-8", "replace")
