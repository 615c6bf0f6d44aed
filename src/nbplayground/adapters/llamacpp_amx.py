"""llama.cpp's AMX matrix kernel kept out of the way where it crashes.

A llama.cpp built natively on a CPU that reports AMX (Intel's matrix instructions, Xeon since
Sapphire Rapids) repacks the model's weights for its AMX kernel, and on such machines here every
decode then died in `ggml_backend_amx_mul_mat` (a segmentation fault: llama.cpp issue 20824,
llama-cpp-python 0.3.17 to 0.3.36). Loaded without the extra buffer types, the weights stay as
they are and the ordinary AVX-512 kernels run them. scripts/bootstrap.sh builds without AMX on
such a CPU; this covers a build that has it (a user's own `pip install`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def amx_in_build(system_info: bytes) -> bool:
    """True when llama.cpp's system info says its CPU backend runs matrix products on AMX."""
    return b"AMX_INT8 = 1" in system_info


@contextlib.contextmanager
def without_amx(llama_cpp: Any) -> Iterator[None]:
    """While a Llama is built (the caller holds the lock that makes models): with an AMX build,
    its model parameters say use_extra_bufts = False. `llama_cpp` is the package."""
    low = llama_cpp.llama_cpp  # the ctypes layer, where Llama() reads its default params
    if not amx_in_build(low.llama_print_system_info()):
        yield
        return
    real = low.llama_model_default_params

    def params() -> Any:
        p = real()
        p.use_extra_bufts = False
        return p

    low.llama_model_default_params = params
    try:
        yield
    finally:
        low.llama_model_default_params = real
