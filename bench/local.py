"""Bench the local provider: model load time, tokens/s of a ~100-token answer, a 20-call sweep."""

from __future__ import annotations

import asyncio
import os
import time

from nbplayground.adapters import llamacpp_chat
from nbplayground.adapters.llamacpp_chat import SMOLLM2, LlamaCppChatClient, local_available
from nbplayground.domain import ChatRequest, ModelParameters, as_messages

MESSAGES = as_messages("Name three colours.")


def request(**params: object) -> ChatRequest:
    return ChatRequest(model=SMOLLM2, messages=MESSAGES,
                       parameters=ModelParameters(**params))  # type: ignore[arg-type]


async def main() -> None:
    client = LlamaCppChatClient()
    t0 = time.perf_counter()
    import llama_cpp  # noqa: F401  (timed apart from the model load)

    t1 = time.perf_counter()
    prompt = client.count_messages(MESSAGES, SMOLLM2)  # loads the model
    t2 = time.perf_counter()
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, n_ctx {client.n_ctx}, "
          f"prompt {prompt} tokens")
    print(f"import llama_cpp      {t1 - t0:6.2f} s")
    print(f"load SmolLM2-135M     {t2 - t1:6.2f} s")

    r = await client.complete(request(temperature=0, max_tokens=100))
    rate = r.completion_tokens / (r.latency_ms / 1000)
    print(f"100-token answer      {r.latency_ms / 1000:6.2f} s, {r.completion_tokens} tokens, "
          f"{rate:.0f} tokens/s (prompt included), finish {r.finish_reason}")

    pieces: list[float] = []
    t = time.perf_counter()
    s = await client.complete(request(temperature=0, max_tokens=100),
                              on_delta=lambda _: pieces.append(time.perf_counter() - t))
    print(f"streamed, same        {s.latency_ms / 1000:6.2f} s, first piece after "
          f"{pieces[0] * 1000:.0f} ms, {len(pieces)} pieces")

    t = time.perf_counter()
    total = 0
    for i in range(20):
        r = await client.complete(request(temperature=0.7, seed=i, max_tokens=32))
        total += r.completion_tokens
    wall = time.perf_counter() - t
    print(f"20 calls, max_tokens=32 {wall:6.2f} s wall, {total} tokens, "
          f"{wall / 20 * 1000:.0f} ms/call, {total / wall:.0f} tokens/s")
    print(f"models loaded in process: {len(llamacpp_chat._MODELS)}, "
          f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    if not local_available():
        raise SystemExit("the local extra is not installed: pip install 'nbplayground[local]'")
    asyncio.run(main())
