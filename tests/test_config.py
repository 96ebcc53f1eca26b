"""Settings layering: defaults < file < environment < flags, with clear errors."""

from __future__ import annotations

import pytest

from agentic_match.config import load_settings
from agentic_match.errors import ConfigError


def test_defaults_are_local_and_offline(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.server.host == "127.0.0.1" and s.llm.base_url is None


def test_layering_file_env_flags(monkeypatch, tmp_path):
    cfg = tmp_path / "am.toml"
    cfg.write_text('encoder = "from-file"\n[llm]\nmax_concurrency = 4\ntemperature = 0.5\n')
    s = load_settings(cfg)
    assert (s.encoder, s.llm.max_concurrency, s.llm.temperature) == ("from-file", 4, 0.5)
    monkeypatch.setenv("AGENTIC_MATCH_LLM__MAX_CONCURRENCY", "8")
    s = load_settings(cfg)
    assert s.llm.max_concurrency == 8 and s.llm.temperature == 0.5
    s = load_settings(cfg, ["llm.max_concurrency=2", "encoder=flag"])
    assert (s.llm.max_concurrency, s.encoder, s.llm.temperature) == (2, "flag", 0.5)


def test_bad_values_name_the_key(tmp_path):
    cfg = tmp_path / "am.toml"
    cfg.write_text("[llm]\nmax_concurrency = 0\n")
    with pytest.raises(ConfigError, match="llm.max_concurrency"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="unknown_key"):
        load_settings(overrides=["unknown_key=1"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[llm\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


def test_config_show_cli(monkeypatch, tmp_path):
    from agentic_match.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "agentic-match.toml").write_text("[llm]\nmax_tokens = 77\n")
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        main(["--set", "llm.seed=5", "config", "show"])
    out = buf.getvalue()
    assert "max_tokens = 77" in out and "seed = 5" in out
