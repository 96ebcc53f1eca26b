"""Core commands: ``config show``, ``models``, ``serve`` and ``demo``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from agentic_match.cli.context import settings

console = Console()
config_app = typer.Typer(help="Inspect the layered settings.", no_args_is_help=True)
models_app = typer.Typer(help="Locate and prepare local models.", no_args_is_help=True)


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML-like text.")] = False,
) -> None:
    """Print the effective settings (defaults < config file < environment < --set flags)."""
    s = settings()
    data = json.loads(s.model_dump_json())
    if as_json:
        console.print_json(data=data)
        return
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for k, v in flat.items():
        console.print(f"{k} = {json.dumps(v)}", highlight=False)
    for section, values in data.items():
        if isinstance(values, dict):
            console.print(f"\n[{section}]", highlight=False, markup=False)
            for k, v in values.items():
                console.print(f"{k} = {json.dumps(v)}", highlight=False)


@models_app.command("resolve")
def models_resolve(
    spec: Annotated[str, typer.Argument(help="Packaged name, HF folder or GGUF file.")],
    kind: Annotated[str, typer.Option(help="generator (GGUF converted once) or encoder.")] = "generator",
) -> None:
    """Print the local folder a model spec resolves to (converting a GGUF once)."""
    from agentic_match.models import resolve_encoder, resolve_generator

    path = resolve_encoder(spec) if kind == "encoder" else resolve_generator(spec, settings().models_dir)
    console.print(str(path), highlight=False)


def serve(
    model: Annotated[Optional[str], typer.Option(help="Generator spec (default: settings llm.model).")] = None,
    adapter: Annotated[
        Optional[list[str]], typer.Option("--adapter", help="LoRA adapter NAME=PATH (repeatable).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 0,
) -> None:
    """Start a local vLLM OpenAI-compatible server on 127.0.0.1 and keep it up until Ctrl-C.

    Other agentic-match processes for the same model reuse it instead of starting their own.
    """
    from agentic_match.errors import ConfigError
    from agentic_match.llm import ManagedServer

    adapters = {}
    for item in adapter or []:
        if "=" not in item:
            raise ConfigError(f"--adapter expects NAME=PATH, got {item!r}")
        name, path = item.split("=", 1)
        adapters[name] = path
    s = settings()
    if port:
        s.server.port = port
    server = ManagedServer(model, s, adapters=adapters)
    # SIGTERM (kill, systemd, CI) must also leave through the context manager, or the vLLM
    # process group would outlive us.
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    console.print("starting vLLM (first start converts a GGUF model once; about a minute on CPU)...")
    with server as info:
        console.print(f"[bold green]ready[/] base_url={info.base_url} model={info.model}", highlight=False)
        console.print(f"api_key={info.api_key}", highlight=False)
        console.print(f"log: {info.log_path}", highlight=False)
        if not server.owned:
            console.print("(reusing a server that was already running)")
            return
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("shutting down")


def demo(
    jobs: Annotated[int, typer.Option(help="Jobs to augment with a hypothetical resume (HyRe).")] = 3,
    top: Annotated[int, typer.Option(help="Candidates shown per job.")] = 5,
    out: Annotated[Optional[Path], typer.Option(help="Write the rankings as JSON here.")] = None,
    model: Annotated[
        Optional[str],
        typer.Option(help="Generator: a packaged name, a local HF folder or a GGUF file (default: llm.model)."),
    ] = None,
) -> None:
    """Run the main job end to end on the packaged demo corpus and default models."""
    from agentic_match.demo import run_demo

    s = settings()
    if model is not None:
        s = s.model_copy(update={"llm": s.llm.model_copy(update={"model": model})})
    run_demo(s, n_jobs=jobs, top_k=top, out=out, console=console)


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""
    app.add_typer(config_app, name="config")
    app.add_typer(models_app, name="models")
    app.command("serve")(serve)
    app.command("demo")(demo)
