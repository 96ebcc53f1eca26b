"""Command options generated from the config dataclasses, so each setting has one name.

A command decorated with :func:`config_options` gets one option per (nested) field of its
config - ``--epochs``, ``--confit.epochs``, ``--skip-judge/--no-skip-judge`` - with the
field's help text, and receives the built config: defaults < the settings section (TOML
file, environment, ``--set section.field=value``) < the options given. A setting named
``pipeline.confit.epochs`` in a file is ``--confit.epochs`` on ``agentic-match pipeline run``.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from agentic_match.config import FieldInfo, config_fields, deep_merge, deep_set, section

_SCALARS = (str, int, float, bool)


def with_parameters(
    func: Callable[..., Any], param: str, extra: list[inspect.Parameter], build: Callable[[dict[str, Any]], Any]
) -> Callable[..., Any]:
    """``func`` with its ``param`` replaced by the generated ``extra`` keyword parameters.

    The wrapper pops the generated values from the call, passes ``build(values)`` as
    ``param`` and shows typer the generated signature (typer reads the signature).
    """
    sig = inspect.signature(func)
    hints = typing.get_type_hints(func, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != param]
    names = {p.name for p in extra}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        kwargs[param] = build(values)
        return func(*args, **kwargs)

    del wrapper.__wrapped__  # typer must see the generated signature, not the original
    wrapper.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *extra]}
    return wrapper


def option_name(field: str) -> str:
    """``confit.batch_size`` -> ``--confit.batch-size``."""
    return "--" + field.replace("_", "-")


def param_name(field: str) -> str:
    """A Python identifier for the option's parameter (``confit__batch_size``)."""
    return "cfg__" + field.replace(".", "__")


def _option_type(tp: Any) -> Any | None:
    """The option's type, or ``None`` when the field cannot be given on a command line."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _option_type(inner[0]) if len(inner) == 1 else None
    if origin is typing.Literal:
        return tp
    if origin is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return list[args[0]] if args and args[0] in _SCALARS else None
    return tp if tp in _SCALARS else None


def _parameter(info: FieldInfo) -> inspect.Parameter | None:
    tp = _option_type(info.type)
    if tp is None:
        return None
    name = option_name(info.name)
    decl = f"{name}/--no-{name[2:]}" if tp is bool else name
    default = f" [default: {info.default!r}]" if info.default is not None else ""
    decls = [decl, f"-{info.name}"] if len(info.name) == 1 else [decl]  # -k, as every ranking tool has it
    opt = typer.Option(*decls, help=(info.help + default).strip(), show_default=False)
    return inspect.Parameter(
        param_name(info.name), inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[tp], opt]
    )


def config_options(
    section_name: str,
    cls: type,
    *,
    param: str = "config",
    exclude: Iterable[str] = (),
    defaults: Callable[[], Mapping[str, Any]] | None = None,
    as_overrides: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a typer command: options from ``cls``'s fields; the built config as ``param``.

    Args:
        section_name: The settings section the values come from (``"train"``, ``"pipeline"``).
        cls: The config dataclass.
        param: The command function's parameter that receives the config.
        exclude: Dotted fields without an option (the command sets them itself).
        defaults: Dotted defaults that apply when neither the section nor an option sets
            the field (e.g. the encoder from the runtime settings).
        as_overrides: Pass only what was given (the section's values and the options, as a
            nested dict, checked against ``cls``) instead of a built config: for commands
            that layer the values over settings recorded earlier (a feedback folder).
    """
    skip = set(exclude)
    infos = [i for i in config_fields(cls) if i.name not in skip]
    generated = {p.name: i.name for i in infos if (p := _parameter(i)) is not None}
    params = [p for i in infos if (p := _parameter(i)) is not None]

    def build(values: dict[str, Any]) -> Any:
        from agentic_match.cli.context import settings

        given = {generated[k]: v for k, v in values.items()}
        given = {k: list(v) if isinstance(v, tuple) else v for k, v in given.items() if v is not None}
        s = settings()
        present = s.sections.get(section_name, {})
        for key, value in (defaults() if defaults else {}).items():
            if key not in given and not _has(present, key):
                given[key] = value
        config = section(s, section_name, cls, given)
        if not as_overrides:
            return config
        nested: dict[str, Any] = {}
        for key, value in given.items():
            deep_set(nested, key.split("."), value)
        return deep_merge(present, nested)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return with_parameters(func, param, params, build)

    return decorate


_CORPUS_PARAMS = {
    "data": (Optional[Path], typer.Option("--data", help="A folder in the benchmark layout (resumes, jobs, labels/).")),
    "resumes": (Optional[Path], typer.Option("--resumes", help="Resumes file (JSONL / CSV), with --jobs, --labels.")),
    "jobs": (Optional[Path], typer.Option("--jobs", help="Jobs file (JSONL / CSV).")),
    "labels": (Optional[Path], typer.Option("--labels", help="Labels file (resume_id, job_id, label).")),
}
_DEMO = (bool, typer.Option("--demo", help="Use the packaged (made-up) demo corpus."))


def load_cli_corpus(
    data: Path | None, resumes: Path | None, jobs: Path | None, labels: Path | None, demo: bool = False
) -> Any:
    """A corpus from ``--data``, ``--resumes/--jobs/--labels`` or ``--demo`` (exactly one source)."""
    from agentic_match.data import load_benchmark, load_corpus, load_demo
    from agentic_match.errors import ConfigError

    files = [resumes, jobs, labels]
    if demo:
        if data is not None or any(f is not None for f in files):
            raise ConfigError("give --demo, or --data, or --resumes/--jobs/--labels, not several")
        return load_demo()
    if data is not None and any(f is not None for f in files):
        raise ConfigError("give either --data DIR or --resumes/--jobs/--labels, not both")
    if data is not None:
        return load_benchmark(data)
    if not all(f is not None for f in files):
        raise ConfigError("give --data DIR, or all of --resumes FILE --jobs FILE --labels FILE")
    return load_corpus(resumes, jobs, labels)


def corpus_options(*, demo: bool = False, param: str = "corpus") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command: ``--data`` or ``--resumes/--jobs/--labels`` (and ``--demo``) options,
    the loaded corpus passed as ``param`` (errors name the file, line and field)."""
    names = {**_CORPUS_PARAMS, **({"demo": _DEMO} if demo else {})}
    extra = [
        inspect.Parameter(
            f"src__{n}",
            inspect.Parameter.KEYWORD_ONLY,
            default=False if n == "demo" else None,
            annotation=Annotated[tp, opt],
        )
        for n, (tp, opt) in names.items()
    ]

    def build(values: dict[str, Any]) -> Any:
        src = {n: values.get(f"src__{n}") for n in names}
        return load_cli_corpus(src["data"], src["resumes"], src["jobs"], src["labels"], bool(src.get("demo")))

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return with_parameters(func, param, extra, build)

    return decorate


def _has(tree: Mapping[str, Any], dotted: str) -> bool:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


__all__ = ["config_options", "corpus_options", "load_cli_corpus", "option_name", "param_name"]
