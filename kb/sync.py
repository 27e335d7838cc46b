"""`kb ingest DIR --sync`: which stored documents mirror files that are gone.

A folder's documents are the stored paths under its prefix (its path relative to --root, or every
path when the folder itself is the root of the identities). Uploads (uploads/…) have no file and
are never removed by a sync. An empty folder removes nothing: that is what an unmounted share
looks like, and a cron job must not wipe the index because of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UPLOADS = "uploads/"


@dataclass
class Folder:
    label: str  # as the user gave it, for messages
    prefix: str  # stored paths of its documents start with this ("" = all)
    present: set[str] = field(default_factory=set)  # identities of the files found under it now


def stale(paths_under, folders: list[Folder]) -> tuple[list[str], list[tuple[str, str]]]:
    """(stored paths to remove, (folder, reason) refusals); ``paths_under(prefix)`` lists stored paths."""
    remove: list[str] = []
    refused: list[tuple[str, str]] = []
    for f in folders:
        gone = sorted(p for p in paths_under(f.prefix)
                      if p not in f.present and not (f.prefix == "" and p.startswith(UPLOADS)))
        if gone and not f.present:
            refused.append((f.label, f"--sync refused: the folder is empty, and syncing would remove {len(gone)} "
                                     "documents (is the share mounted?)"))
            continue
        remove += [p for p in gone if p not in remove]
    return remove, refused
