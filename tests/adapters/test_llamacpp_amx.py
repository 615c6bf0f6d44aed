"""The AMX guard: with a llama.cpp build whose CPU backend runs AMX, models load without the
extra (repacked) buffer types its crashing kernel needs; with any other build, as they are."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nbplayground.adapters.llamacpp_amx import amx_in_build, without_amx
from nbplayground.adapters.llamacpp_chat import local_available, smollm2_path

NATIVE = (b"CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | "
          b"BMI2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | "
          b"LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | ")
"""llama_print_system_info() of 0.3.35 built natively on this machine's Xeon (it crashed)."""
WITHOUT = NATIVE.replace(b"AMX_INT8 = 1 | ", b"")


def test_the_build_s_own_system_info_says_whether_it_runs_amx() -> None:
    assert amx_in_build(NATIVE)
    assert not amx_in_build(WITHOUT)
    assert not amx_in_build(b"CPU : NEON = 1 | ARM_FMA = 1 | REPACK = 1 | ")


def _fake(info: bytes) -> Any:
    params = SimpleNamespace
    low = SimpleNamespace(llama_print_system_info=lambda: info,
                          llama_model_default_params=lambda: params(use_extra_bufts=True))
    return SimpleNamespace(llama_cpp=low)


@pytest.mark.parametrize(("info", "extra"), [(NATIVE, False), (WITHOUT, True)])
def test_only_an_amx_build_loads_without_extra_buffers_and_only_while_loading(
        info: bytes, extra: bool) -> None:
    fake = _fake(info)
    real = fake.llama_cpp.llama_model_default_params
    with without_amx(fake):
        assert fake.llama_cpp.llama_model_default_params().use_extra_bufts is extra
    assert fake.llama_cpp.llama_model_default_params is real
    with pytest.raises(RuntimeError), without_amx(fake):
        raise RuntimeError("a load that fails")
    assert fake.llama_cpp.llama_model_default_params is real


@pytest.mark.local_model
@pytest.mark.skipif(not local_available(), reason="needs the local extra")
def test_a_real_llama_built_under_the_guard_of_an_amx_build_has_no_extra_buffers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard reaches the Llama that llama-cpp-python builds (its model params), and the
    model still answers. This machine's build has no AMX (bootstrap.sh), so AMX is claimed."""
    import llama_cpp

    monkeypatch.setattr(llama_cpp.llama_cpp, "llama_print_system_info", lambda: NATIVE)
    with without_amx(llama_cpp):
        llm = llama_cpp.Llama(model_path=str(smollm2_path()), n_ctx=256, verbose=False)
    assert llm.model_params.use_extra_bufts is False
    assert llm("The capital of France is", max_tokens=3)["choices"][0]["text"]
    plain = llama_cpp.Llama(model_path=str(smollm2_path()), n_ctx=256, verbose=False)
    assert plain.model_params.use_extra_bufts is True
