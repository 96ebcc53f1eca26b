"""The dtype the managed server asks vLLM for (``server.dtype``)."""

from __future__ import annotations

from agentic_match.llm.server import cpu_has_native_bf16, served_dtype

AVX2 = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"


def test_native_bf16_read_from_cpu_flags() -> None:
    assert not cpu_has_native_bf16(AVX2)
    assert cpu_has_native_bf16(SAPPHIRE)
    assert not cpu_has_native_bf16("")


def test_auto_serves_float32_only_on_cpus_without_native_bf16() -> None:
    assert served_dtype("auto", gpu=False, native_bf16=False) == "float32"
    assert served_dtype("auto", gpu=False, native_bf16=True) is None
    assert served_dtype("auto", gpu=True, native_bf16=False) is None


def test_an_explicit_dtype_is_passed_as_given() -> None:
    assert served_dtype("bfloat16", gpu=False, native_bf16=False) == "bfloat16"
    assert served_dtype("float16", gpu=True, native_bf16=True) == "float16"
