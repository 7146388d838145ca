"""A real pydantic-ai agent served over AG-UI, fully offline, for Letterbox's tests.

The agent is pydantic-ai's own: ``Agent`` + ``AGUIAdapter.dispatch_request`` from
``pydantic_ai.ui.ag_ui``. Only the model is a stand-in: a ``FunctionModel`` whose stream function
decides what to "say" from the text of the last user message, so one server serves every test:

    contains "delete"  calls ``delete_file(path)`` (path = the word after "delete", default
                       notes.txt), a tool declared ``requires_approval=True``: the run ends with
                       RUN_FINISHED outcome interrupt. Resumed and approved, the tool runs and returns
                       "deleted <path>"; denied, the final text says the file was not deleted.
    contains "time"    calls the plain tool ``get_time`` (no approval), then answers with its result.
    contains "slow"    streams 200 text chunks 50 ms apart (10 s), so a client can abort mid-stream.
    contains "plain"   streams "Hello from pydantic-ai." in several chunks.
    anything else      echoes the message back: "Echo: <text>".

The checks run in that order. Usage: ``python agui_pydantic_peer.py --port 0 --log /tmp/x.jsonl``;
the agent is served at POST ``/`` and POST ``/agent``. Log lines are described in README.md.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pydantic_ai.models
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_ai.tools import DeferredToolRequests
from pydantic_ai.ui.ag_ui import AGUIAdapter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from peer_runtime import EventLog, parse_args, request_headers, serve, watch_stream

# Only the local FunctionModel may run: any attempt to reach a real provider raises instead.
pydantic_ai.models.ALLOW_MODEL_REQUESTS = False

FIXED_TIME = "2026-11-21T09:30:00Z"
DEFAULT_PATH = "notes.txt"
SLOW_CHUNKS = 200
SLOW_INTERVAL = 0.05


def _last_user_text(messages: list[ModelMessage]) -> str:
    """The text of the most recent user prompt in the model's view of the conversation."""
    for message in reversed(messages):
        if not isinstance(message, ModelRequest):
            continue
        for part in reversed(message.parts):
            if isinstance(part, UserPromptPart):
                if isinstance(part.content, str):
                    return part.content
                return " ".join(item for item in part.content if isinstance(item, str))
    return ""


def _path_to_delete(text: str) -> str:
    match = re.search(r"\bdelete\s+(\S+)", text, re.IGNORECASE)
    return match.group(1).rstrip(".,;:!?") if match else DEFAULT_PATH


def _call_args(messages: list[ModelMessage], tool_call_id: str) -> dict:
    """The arguments the model gave the tool call with this id (the history carries them)."""
    for message in messages:
        if isinstance(message, ModelResponse):
            for part in message.parts:
                if isinstance(part, ToolCallPart) and part.tool_call_id == tool_call_id:
                    return part.args_as_dict()
    return {}


def _answer_after_tools(messages: list[ModelMessage], returns: list[ToolReturnPart]) -> str:
    """The final text once the tools have answered (or been denied)."""
    sentences = []
    for ret in returns:
        if ret.tool_name == "get_time":
            sentences.append(f"The time is {ret.content}.")
        elif ret.tool_name == "delete_file":
            path = _call_args(messages, ret.tool_call_id).get("path", DEFAULT_PATH)
            if ret.outcome == "success":
                sentences.append(f"Done: {ret.content}.")
            else:
                # A denial arrives as a ToolReturnPart with outcome "denied" whose content is the
                # operator's reason, or pydantic-ai's default "The tool call was denied.".
                sentences.append(f"I did not delete {path}: {ret.content}")
        else:
            sentences.append(f"{ret.tool_name} returned {ret.content}.")
    return " ".join(sentences)


def _chunks(text: str) -> list[str]:
    """Split text into word-sized pieces that concatenate back to it exactly."""
    return re.findall(r"\S+\s*|\s+", text)


async def model_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
    """The stand-in model. Yields text chunks, or tool-call deltas, never both in one response."""
    last = messages[-1]
    returns = [p for p in last.parts if isinstance(p, ToolReturnPart)] if isinstance(last, ModelRequest) else []
    if returns:
        for chunk in _chunks(_answer_after_tools(messages, returns)):
            yield chunk
        return

    text = _last_user_text(messages)
    lowered = text.lower()
    if "delete" in lowered:
        # Arguments split over two deltas, so the client sees TOOL_CALL_ARGS in fragments.
        args = json.dumps({"path": _path_to_delete(text)})
        split = len(args) // 2
        yield {0: DeltaToolCall(name="delete_file", json_args=args[:split])}
        yield {0: DeltaToolCall(json_args=args[split:])}
    elif "time" in lowered:
        yield {0: DeltaToolCall(name="get_time", json_args="{}")}
    elif "slow" in lowered:
        for i in range(SLOW_CHUNKS):
            await asyncio.sleep(SLOW_INTERVAL)
            yield f"tick {i} "
    elif "plain" in lowered:
        for chunk in ("Hello ", "from ", "pydantic", "-ai."):
            yield chunk
    else:
        for chunk in _chunks(f"Echo: {text}"):
            yield chunk


agent = Agent(
    FunctionModel(stream_function=model_stream, model_name="letterbox-peer"),
    # DeferredToolRequests lets a run end waiting for approval; the adapter turns that into an interrupt.
    output_type=[str, DeferredToolRequests],
)


@agent.tool_plain
def get_time() -> str:
    """Return the current time (fixed, so the tests are deterministic)."""
    return FIXED_TIME


@agent.tool_plain(requires_approval=True)
def delete_file(path: str) -> str:
    """Delete a file (pretend). Needs the operator's approval."""
    return f"deleted {path}"


def _summary(body: bytes) -> dict:
    """The request fields the log records; tolerant of bodies the adapter will reject."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    messages = data.get("messages")
    return {
        "threadId": data.get("threadId"),
        "runId": data.get("runId"),
        "messages": len(messages) if isinstance(messages, list) else None,
        "resume": bool(data.get("resume")),
        "protocolVersion": data.get("protocolVersion"),
    }


def build_app(log: EventLog) -> Starlette:
    async def run_agent(request: Request) -> Response:
        summary = _summary(await request.body())  # Starlette caches the body for the adapter
        log.write("request", **summary, headers=request_headers(request))
        try:
            # include_usage: RUN_FINISHED reports the (estimated) token usage, as a real server may.
            response = await AGUIAdapter.dispatch_request(request, agent=agent, include_usage=True)
        except HTTPException as e:  # 415 for a Content-Type other than application/json
            log.write("rejected", runId=summary["runId"], status=e.status_code)
            raise
        if isinstance(response, StreamingResponse):
            response.body_iterator = watch_stream(response.body_iterator, log, runId=summary["runId"])
        else:  # 422 for a body that is not a valid RunAgentInput
            log.write("rejected", runId=summary["runId"], status=response.status_code)
        return response

    return Starlette(routes=[Route(path, run_agent, methods=["POST"]) for path in ("/", "/agent")])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    serve(build_app(EventLog(args.log)), args.port)


if __name__ == "__main__":
    main()
