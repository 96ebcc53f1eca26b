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
from typing import Annotated, Any, Optional

import typer

from agentic_match.config import FieldInfo, config_fields, deep_merge, deep_set, section

_SCALARS = (str, int, float, bool)


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

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != param
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from agentic_match.cli.context import settings

            given = {generated[k]: kwargs.pop(k) for k in list(kwargs) if k in generated}
            given = {k: list(v) if isinstance(v, tuple) else v for k, v in given.items() if v is not None}
            s = settings()
            present = s.sections.get(section_name, {})
            for key, value in (defaults() if defaults else {}).items():
                if key not in given and not _has(present, key):
                    given[key] = value
            config = section(s, section_name, cls, given)
            if as_overrides:
                nested: dict[str, Any] = {}
                for key, value in given.items():
                    deep_set(nested, key.split("."), value)
                kwargs[param] = deep_merge(s.sections.get(section_name, {}), nested)
            else:
                kwargs[param] = config
            return func(*args, **kwargs)

        del wrapper.__wrapped__  # typer must see the generated signature, not the original
        wrapper.__signature__ = inspect.Signature([*own, *params])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *params]}
        return wrapper

    return decorate


def _has(tree: Mapping[str, Any], dotted: str) -> bool:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


__all__ = ["config_options", "option_name", "param_name"]
