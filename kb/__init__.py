"""法治文库 fazhi-kb core: ``kb.KnowledgeBase(index_dir)`` is the one entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["KnowledgeBase"]


def __getattr__(name: str):
    # Lazy, so `kb --help` and `import kb.errors` stay fast.
    if name == "KnowledgeBase":
        from kb.core import KnowledgeBase
        return KnowledgeBase
    raise AttributeError(name)
