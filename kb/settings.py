"""The one settings class (environment variables prefixed ``KB_``), shared by CLI and API."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    index: Path = Path("indexes/default")  # KB_INDEX
    embedder: str = "e5-small"  # KB_EMBEDDER: e5-small | st:<name-or-path> | fake[:dim]
    max_file_bytes: int = 50_000_000  # KB_MAX_FILE_BYTES: files above this are refused
    flat_max: int = 200_000  # KB_FLAT_MAX: exact FAISS search up to this many chunks, IVF-SQ8 above
    database_url: str = ""  # KB_DATABASE_URL: postgresql://user:pass@host/db keeps the store in PostgreSQL
    database_pool: int = 10  # KB_DATABASE_POOL: connections one process keeps open to it at most
    milvus_uri: str = ""  # KB_MILVUS_URI: new indexes keep vectors and BM25 in Milvus (http://host:19530 or a file: milvus-lite)
    milvus_token: str = ""  # KB_MILVUS_TOKEN: "user:password" or an API key, when the server asks for one
    fusion: str = "weighted"  # KB_FUSION: weighted (min-max normalised, 0.5/0.5) | rrf; chosen on the dev set
    embed_batch: int = 32  # KB_EMBED_BATCH
    api_key: str = ""  # KB_API_KEY: bearer key for writes; empty = writes refused
    read_key: str = ""  # KB_READ_KEY: when set, reads need it too
    max_upload_bytes: int = 20_000_000  # KB_MAX_UPLOAD_BYTES
    llm_base_url: str = ""  # KB_LLM_BASE_URL: OpenAI-compatible endpoint for generative answers
    llm_model: str = ""  # KB_LLM_MODEL
    llm_api_key: str = ""  # KB_LLM_API_KEY
    llm_timeout: float = 30.0  # KB_LLM_TIMEOUT seconds
