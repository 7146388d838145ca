"""A scripted OpenAI-compatible chat completions server for Letterbox's tests.

``POST /v1/chat/completions`` answers in OpenAI's own formats: with ``"stream": true`` an SSE
stream of ``chat.completion.chunk`` objects (``data: {...}`` lines, ending with ``data: [DONE]``,
plus a usage chunk first when ``stream_options.include_usage`` is true); otherwise one
``chat.completion`` object. The scenario is the request's ``model``:

    text              "The answer is 42." (streamed in word chunks)
    tools             two tool calls, get_weather and get_time, arguments streamed in fragments
    error-400         HTTP 400 invalid_request_error
    error-401         HTTP 401 invalid_api_key
    error-429         HTTP 429 rate_limit_exceeded with ``Retry-After: 2``
    error-500         HTTP 500 server_error
    error-midstream   a 200 stream that sends an ``{"error": ...}`` object after some content, no [DONE]
    cut               the TCP connection is dropped mid-stream (no [DONE], chunked body unterminated)
    slow              200 chunks 50 ms apart (10 s), so a client can abort mid-stream

``GET /v1/models`` lists the scenarios as models. Any other model gets OpenAI's 404
``model_not_found``. Usage: ``python openai_scripted_peer.py --port 0 --log /tmp/x.jsonl``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from peer_runtime import CutResponse, EventLog, parse_args, request_headers, serve, watch_stream

CREATED = 1795000000  # fixed `created` (seconds), so outputs are reproducible
FINGERPRINT = "fp_letterbox_peer"
STEP = 0.02  # seconds between chunks
SLOW_CHUNKS = 200
SLOW_INTERVAL = 0.05
SSE_MEDIA_TYPE = "text/event-stream"

TEXT_CHUNKS = ("The", " answer", " is", " 42", ".")
TOOL_CALLS = (
    ("call_weather_1", "get_weather", ('{"ci', 'ty": "Pa', 'ris"}')),
    ("call_time_2", "get_time", ('{"timezone":', ' "Europe/Paris"}')),
)
TOOL_TOKENS = sum(len(fragments) for _, _, fragments in TOOL_CALLS)  # one "token" per arguments fragment
MIDSTREAM_ERROR = {"message": "The model stopped unexpectedly.", "type": "server_error", "param": None, "code": "stream_error"}

ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "error-400": (
        400,
        {
            "message": "Invalid value for 'messages': the conversation must not be empty.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "invalid_value",
        },
        {},
    ),
    "error-401": (
        401,
        {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        },
        {},
    ),
    "error-429": (
        429,
        {
            "message": "Rate limit reached for requests. Please try again in 2s.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
        {"Retry-After": "2"},
    ),
    "error-500": (
        500,
        {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        },
        {},
    ),
}
_completion_ids = itertools.count(1)


def error_response(status: int, error: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"data: {data}\n\n".encode()


class Completion:
    """Builds the objects of one response, all sharing its id and model."""

    def __init__(self, model: str, body: dict[str, Any]) -> None:
        self.id = f"chatcmpl-peer{next(_completion_ids):06d}"
        self.model = model
        options = body.get("stream_options") or {}
        self.include_usage = bool(options.get("include_usage"))
        self.prompt_tokens = sum(
            len(str(message.get("content") or "").split()) for message in body.get("messages") or [] if isinstance(message, dict)
        )

    def usage(self, completion_tokens: int) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if self.include_usage:
            payload["usage"] = None  # OpenAI sends an explicit null on every chunk but the last
        return sse(payload)

    def end(self, finish_reason: str, completion_tokens: int) -> list[bytes]:
        """The closing chunk, the usage chunk if asked for, and [DONE]."""
        frames = [self.chunk({}, finish_reason)]
        if self.include_usage:
            frames.append(
                sse(
                    {
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": CREATED,
                        "model": self.model,
                        "system_fingerprint": FINGERPRINT,
                        "choices": [],
                        "usage": self.usage(completion_tokens),
                    }
                )
            )
        frames.append(sse("[DONE]"))
        return frames

    def text_start(self) -> bytes:
        return self.chunk({"role": "assistant", "content": "", "refusal": None})

    def full(self, message: dict[str, Any], finish_reason: str, completion_tokens: int) -> dict[str, Any]:
        """A non-streaming ``chat.completion`` object."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "usage": self.usage(completion_tokens),
        }


async def paced(frames: Iterable[bytes], delay: float = STEP) -> AsyncIterator[bytes]:
    for frame in frames:
        await asyncio.sleep(delay)
        yield frame


def stream_text(c: Completion) -> AsyncIterator[bytes]:
    return paced([c.text_start(), *(c.chunk({"content": t}) for t in TEXT_CHUNKS), *c.end("stop", len(TEXT_CHUNKS))])


def stream_tools(c: Completion) -> AsyncIterator[bytes]:
    frames = []
    for index, (call_id, name, fragments) in enumerate(TOOL_CALLS):
        # The first delta of each call carries its id, type and name, with empty arguments; the
        # following deltas carry only the index and an arguments fragment.
        opening = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        delta: dict[str, Any] = {"tool_calls": [opening]}
        if index == 0:
            delta = {"role": "assistant", "content": None, **delta, "refusal": None}
        frames.append(c.chunk(delta))
        frames.extend(
            c.chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}) for fragment in fragments
        )
    return paced([*frames, *c.end("tool_calls", TOOL_TOKENS)])


def stream_error_midstream(c: Completion) -> AsyncIterator[bytes]:
    frames = [c.text_start(), c.chunk({"content": "The"}), c.chunk({"content": " answer"}), sse({"error": MIDSTREAM_ERROR})]
    return paced(frames)


def stream_cut(c: Completion) -> AsyncIterator[bytes]:
    return paced([c.text_start(), c.chunk({"content": "The"}), c.chunk({"content": " answer"})])


async def stream_slow(c: Completion) -> AsyncIterator[bytes]:
    yield c.text_start()
    for i in range(SLOW_CHUNKS):
        await asyncio.sleep(SLOW_INTERVAL)
        yield c.chunk({"content": f"tick {i} "})
    for frame in c.end("stop", SLOW_CHUNKS):
        yield frame


STREAMS = {
    "text": stream_text,
    "tools": stream_tools,
    "error-midstream": stream_error_midstream,
    "cut": stream_cut,
    "slow": stream_slow,
}
SCENARIOS = (*STREAMS, *ERRORS)


async def complete_without_stream(request: Request, c: Completion, log: EventLog) -> Response:
    """The non-streaming answer for the streaming scenarios."""
    if c.model == "error-midstream":
        return error_response(500, MIDSTREAM_ERROR)
    if c.model == "cut":
        # Headers and half a JSON object, then the connection is dropped.
        partial = json.dumps(c.full({"role": "assistant", "content": "The answer is 42."}, "stop", 5))[:60]
        return CutResponse(paced([partial.encode()]), media_type="application/json")
    if c.model == "slow":
        # No body is being streamed that a cancelled task could interrupt, so poll for the disconnect.
        for _ in range(SLOW_CHUNKS):
            if await request.is_disconnected():
                log.write("disconnect", scenario=c.model)
                return Response(status_code=499)  # nobody is listening any more
            await asyncio.sleep(SLOW_INTERVAL)

    if c.model == "tools":
        calls = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": "".join(fragments)}}
            for call_id, name, fragments in TOOL_CALLS
        ]
        message = {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None, "annotations": []}
        completion = c.full(message, "tool_calls", TOOL_TOKENS)
    else:
        message = {"role": "assistant", "content": "".join(TEXT_CHUNKS), "refusal": None, "annotations": []}
        completion = c.full(message, "stop", len(TEXT_CHUNKS))
    log.write("complete", scenario=c.model)
    return JSONResponse(completion)


def build_app(log: EventLog) -> Starlette:
    async def chat_completions(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        log.write("request", path=request.url.path, scenario=model, body=body, headers=request_headers(request))

        if not isinstance(body, dict):
            return error_response(
                400,
                {
                    "message": "We could not parse the JSON body of your request.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                },
            )
        if model in ERRORS:
            return error_response(*ERRORS[model])
        if model not in STREAMS:
            return error_response(
                404,
                {
                    "message": f"The model `{model}` does not exist or you do not have access to it.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                },
            )

        completion = Completion(model, body)
        if not body.get("stream"):
            return await complete_without_stream(request, completion, log)
        stream = watch_stream(STREAMS[model](completion), log, scenario=model)
        response_class = CutResponse if model == "cut" else StreamingResponse
        return response_class(stream, media_type=SSE_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})

    async def models(request: Request) -> Response:
        log.write("request", path=request.url.path, headers=request_headers(request))
        data = [{"id": name, "object": "model", "created": CREATED, "owned_by": "letterbox-peer"} for name in SCENARIOS]
        return JSONResponse({"object": "list", "data": data})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    serve(build_app(EventLog(args.log)), args.port)


if __name__ == "__main__":
    main()
