"""The dtype and CPU cores the managed server asks vLLM for (``server.dtype``, ``server.cpu_reserved_cores``)."""

from __future__ import annotations

from agentic_match.llm.server import cpu_has_native_bf16, reserved_cpu_cores, served_dtype

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


def test_small_machines_reserve_no_core_for_the_api_process() -> None:
    assert reserved_cpu_cores(None, 2) == 0
    assert reserved_cpu_cores(None, 4) == 0
    assert reserved_cpu_cores(None, 16) is None  # vLLM's own default
    assert reserved_cpu_cores(1, 2) == 1  # as the user sets it
