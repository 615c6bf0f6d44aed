"""A lean OpenAI-compatible chat server for benches at hundreds of requests in flight.

tests/support/openai_stub.py runs a thread per connection and records every request for the
tests; at C=256 its own GIL becomes the bottleneck being measured. This one is an aiohttp
server on one event loop: each answer waits `--latency` seconds (asyncio.sleep) and costs
well under a millisecond of CPU, so a bench measures the client, not the server.

    python bench/fast_stub.py --latency 1.0     # prints "READY http://127.0.0.1:PORT/v1"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from aiohttp import web

MODELS = ("gpt-4o-mini", "gpt-4.1-nano", "gpt-4o")


def _answer(body: dict, n: int) -> dict:
    content = "ok " * max(1, min(int(body.get("max_tokens") or body.get("max_completion_tokens")
                                     or 8), 8))
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1
    completion = len(content.split())
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content.strip()},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}}


def app(latency: float) -> web.Application:
    served = {"n": 0, "in_flight": 0, "peak": 0}
    headers = {"x-ratelimit-limit-requests": "1000000", "x-ratelimit-remaining-requests": "999999",
               "x-ratelimit-limit-tokens": "1000000000",
               "x-ratelimit-remaining-tokens": "999999999",
               "x-ratelimit-reset-requests": "0s", "x-ratelimit-reset-tokens": "0s"}

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        served["n"] += 1
        served["in_flight"] += 1
        served["peak"] = max(served["peak"], served["in_flight"])
        try:
            await asyncio.sleep(latency)
            return web.Response(text=json.dumps(_answer(body, served["n"])),
                                content_type="application/json",
                                headers={**headers, "x-request-id": f"req_{served['n']}"})
        finally:
            served["in_flight"] -= 1

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "bench"} for m in MODELS]})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(served)

    application = web.Application()
    application.add_routes([web.post("/v1/chat/completions", chat), web.get("/v1/models", models),
                            web.get("/stats", stats)])
    return application


async def serve(latency: float, port: int) -> None:
    runner = web.AppRunner(app(latency), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY http://127.0.0.1:{bound}/v1", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.port))


if __name__ == "__main__":
    main()
