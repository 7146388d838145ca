"""A hand-scripted AG-UI server for Letterbox's tests: every edge case on demand.

POST ``/<scenario>`` with a ``RunAgentInput`` JSON body; the response is an SSE stream (events
paced a little apart, so a client sees them arrive over time). Valid events are built with the
``ag_ui.core`` models and encoded with ``ag_ui.encoder.EventEncoder``; only what must be malformed
(or belongs to a dialect the models reject) is written as raw bytes.

Scenarios (README.md lists the exact event sequences):

    ok                 a plain text run
    chunks             TEXT_MESSAGE_CHUNK / TOOL_CALL_CHUNK shorthand, legacy RUN_FINISHED without outcome
    everything         every event family: steps, state snapshot + JSON Patch delta, reasoning,
                       tool call + result, activity, custom, raw, text, messages snapshot
    sse-edge           a valid run whose wire format exercises SSE parsing edge cases
    out-of-order       TEXT_MESSAGE_CONTENT for a message that was never started
    cut                the TCP connection is dropped mid-stream (chunked body never terminated)
    truncated          the HTTP body ends cleanly, but without TEXT_MESSAGE_END / RUN_FINISHED
    run-error          RUN_ERROR {message: "model overloaded", code: "overloaded"} mid-message
    garbage            a ``data: {not json`` line in the middle of a valid run
    never-ending       TEXT_MESSAGE_CONTENT every 100 ms until the client goes away
    huge-line          one 20 MiB ``data:`` line (``?bytes=N`` to choose another size)
    interrupt          two interrupts (tool_call + confirmation), resume per the AG-UI spec
    umbraco-interrupt  Umbraco's dialect: string outcome, single ``interrupt``, single ``resume`` object
    subagents          AG-UI 1.0 subagents (one finishes, one fails) with attributed tool calls and text,
                       activity snapshot + delta, token usage on RUN_FINISHED
    custom-interrupt   the CUSTOM ``on_interrupt`` dialect (LangGraph, Mastra): resumed through
                       ``forwardedProps.command.resume``
    cancelled          RUN_FINISHED with the 1.0 ``cancelled`` outcome after some text

Usage: ``python agui_scripted_peer.py --port 0 --log /tmp/x.jsonl``. Log lines are in README.md.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ag_ui.core import (
    PROTOCOL_VERSION,
    ActivityDeltaEvent,
    ActivitySnapshotEvent,
    AssistantMessage,
    BaseEvent,
    CustomEvent,
    FunctionCall,
    Interrupt,
    MessagesSnapshotEvent,
    RawEvent,
    ReasoningEncryptedValueEvent,
    ReasoningEndEvent,
    ReasoningMessage,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunFinishedCancelledOutcome,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    SubagentErrorEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    StepFinishedEvent,
    StepStartedEvent,
    TextMessageChunkEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCall,
    ToolCallArgsEvent,
    ToolCallChunkEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    ToolMessage,
)
from ag_ui.core import TokenUsage
from ag_ui.encoder import EventEncoder
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from peer_runtime import CutResponse, EventLog, parse_args, request_headers, serve, watch_stream

STEP = 0.02  # seconds between events
SSE_MEDIA_TYPE = "text/event-stream"
HUGE_LINE_BYTES = 20 * 1024 * 1024
ENCODER = EventEncoder()


def frame(event: BaseEvent) -> bytes:
    """One event, SSE-encoded exactly as the ag_ui SDK does it: ``data: <json>\\n\\n``."""
    return ENCODER.encode(event).encode()


def wire_json(event: BaseEvent) -> str:
    return event.model_dump_json(by_alias=True)


def raw_frame(payload: dict[str, Any]) -> bytes:
    """An SSE frame for a JSON object the ag_ui models would refuse (a dialect)."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def paced(frames: Iterable[bytes], delay: float = STEP) -> AsyncIterator[bytes]:
    for chunk in frames:
        await asyncio.sleep(delay)
        yield chunk


@dataclass
class Run:
    """What a scenario gets to know about the request."""

    thread_id: str
    run_id: str
    body: dict[str, Any]
    query: dict[str, str]
    input: RunAgentInput | None = None  # None only for the Umbraco dialect, which skips validation

    def started(self) -> RunStartedEvent:
        return RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id, protocol_version=PROTOCOL_VERSION)

    def finished(self, outcome: Any = None) -> RunFinishedEvent:
        return RunFinishedEvent(
            thread_id=self.thread_id, run_id=self.run_id, outcome=outcome or RunFinishedSuccessOutcome()
        )


def text_message(message_id: str, *deltas: str) -> list[BaseEvent]:
    return [
        TextMessageStartEvent(message_id=message_id, role="assistant"),
        *(TextMessageContentEvent(message_id=message_id, delta=d) for d in deltas),
        TextMessageEndEvent(message_id=message_id),
    ]


def tool_call(tool_call_id: str, name: str, parent: str, *arg_fragments: str) -> list[BaseEvent]:
    return [
        ToolCallStartEvent(tool_call_id=tool_call_id, tool_call_name=name, parent_message_id=parent),
        *(ToolCallArgsEvent(tool_call_id=tool_call_id, delta=f) for f in arg_fragments),
        ToolCallEndEvent(tool_call_id=tool_call_id),
    ]


def events(*items: BaseEvent | Iterable[BaseEvent]) -> list[bytes]:
    """Flatten events and lists of events into SSE frames."""
    frames: list[bytes] = []
    for item in items:
        for event in [item] if isinstance(item, BaseEvent) else item:
            frames.append(frame(event))
    return frames


# ---------------------------------------------------------------------------------------------
# Simple scenarios


def scenario_ok(run: Run) -> AsyncIterator[bytes]:
    return paced(events(run.started(), text_message("msg-ok-1", "Hello", " from the", " scripted peer."), run.finished()))


def scenario_chunks(run: Run) -> AsyncIterator[bytes]:
    # Expands (as the TS client's transformChunks does) to: START msg-ch-1, CONTENT x3, END,
    # TOOL_CALL_START tc-ch-1 search, ARGS x2, TOOL_CALL_END, START msg-ch-2, CONTENT, END.
    return paced(
        events(
            run.started(),
            TextMessageChunkEvent(message_id="msg-ch-1", role="assistant", delta="Chunked "),
            TextMessageChunkEvent(delta="text "),  # no messageId: continues the open message
            TextMessageChunkEvent(message_id="msg-ch-1", delta="arrives."),  # same id: still the same message
            ToolCallChunkEvent(
                tool_call_id="tc-ch-1", tool_call_name="search", parent_message_id="msg-ch-1", delta='{"query":'
            ),
            ToolCallChunkEvent(tool_call_id="tc-ch-1", delta=' "letterbox"}'),
            TextMessageChunkEvent(message_id="msg-ch-2", delta="Second message."),  # new id closes the tool call
            # Legacy form: no outcome at all, which 1.0 defines as success. Closes the open chunk.
            RunFinishedEvent(thread_id=run.thread_id, run_id=run.run_id),
        )
    )


EVERYTHING_TOOL_ARGS = ('{"query"', ': "weat', 'her"}')


def scenario_everything(run: Run) -> AsyncIterator[bytes]:
    stamp = 1795000000000  # fixed timestamps (ms), so outputs are reproducible
    snapshot_messages = [
        *(run.input.messages if run.input else []),
        ReasoningMessage(id="reason-e-1", content="Thinking about the weather."),
        AssistantMessage(
            id="msg-e-1",
            content="Let me look that up.",
            tool_calls=[ToolCall(id="tc-e-1", function=FunctionCall(name="lookup", arguments="".join(EVERYTHING_TOOL_ARGS)))],
        ),
        ToolMessage(id="toolmsg-e-1", tool_call_id="tc-e-1", content="sunny"),
        AssistantMessage(id="msg-e-2", content="It is sunny."),
    ]
    sequence = [
        run.started(),
        StepStartedEvent(step_name="plan"),
        StateSnapshotEvent(snapshot={"todo": ["write"], "count": 1, "draft": "tmp"}),
        # RFC 6902; applied to the snapshot it gives {"todo": ["write", "review"], "count": 2}.
        StateDeltaEvent(
            delta=[
                {"op": "add", "path": "/todo/-", "value": "review"},
                {"op": "replace", "path": "/count", "value": 2},
                {"op": "remove", "path": "/draft"},
            ]
        ),
        StepFinishedEvent(step_name="plan"),
        ReasoningStartEvent(message_id="reason-e-1"),
        ReasoningMessageStartEvent(message_id="reason-e-1", role="reasoning"),
        ReasoningMessageContentEvent(message_id="reason-e-1", delta="Thinking about "),
        ReasoningMessageContentEvent(message_id="reason-e-1", delta="the weather."),
        ReasoningMessageEndEvent(message_id="reason-e-1"),
        ReasoningEncryptedValueEvent(subtype="message", entity_id="reason-e-1", encrypted_value="opaque-blob-1"),
        ReasoningEndEvent(message_id="reason-e-1"),
        *text_message("msg-e-1", "Let me look that up."),
        *tool_call("tc-e-1", "lookup", "msg-e-1", *EVERYTHING_TOOL_ARGS),
        ToolCallResultEvent(message_id="toolmsg-e-1", tool_call_id="tc-e-1", content="sunny", role="tool"),
        ActivitySnapshotEvent(message_id="act-e-1", activity_type="progress", content={"done": 1, "total": 2}),
        ActivityDeltaEvent(
            message_id="act-e-1", activity_type="progress", patch=[{"op": "replace", "path": "/done", "value": 2}]
        ),
        CustomEvent(name="letterbox.test", value={"n": 1}),
        RawEvent(event={"provider": "native", "kind": "ping"}, source="scripted-peer"),
        *text_message("msg-e-2", "It is ", "sunny."),
        MessagesSnapshotEvent(messages=snapshot_messages),
        run.finished(),
    ]
    for event in sequence:
        event.timestamp = stamp
        stamp += 1
    return paced(events(sequence))


def scenario_out_of_order(run: Run) -> AsyncIterator[bytes]:
    return paced(
        events(
            run.started(),
            TextMessageStartEvent(message_id="msg-oo-1", role="assistant"),
            TextMessageContentEvent(message_id="msg-oo-1", delta="valid text"),
            TextMessageContentEvent(message_id="msg-never-started", delta="orphan"),  # the protocol error
            TextMessageEndEvent(message_id="msg-oo-1"),
            run.finished(),
        )
    )


def _unfinished_run(run: Run) -> list[bytes]:
    return events(
        run.started(),
        TextMessageStartEvent(message_id="msg-cut-1", role="assistant"),
        TextMessageContentEvent(message_id="msg-cut-1", delta="This answer is cut "),
        TextMessageContentEvent(message_id="msg-cut-1", delta="off mid-"),
    )


def scenario_cut(run: Run) -> AsyncIterator[bytes]:
    return paced(_unfinished_run(run))  # served with CutResponse: the connection is dropped after this


def scenario_truncated(run: Run) -> AsyncIterator[bytes]:
    return paced(_unfinished_run(run))  # the HTTP body then ends normally


def scenario_run_error(run: Run) -> AsyncIterator[bytes]:
    return paced(
        events(
            run.started(),
            TextMessageStartEvent(message_id="msg-err-1", role="assistant"),
            TextMessageContentEvent(message_id="msg-err-1", delta="Partial ans"),
            # The message is left open: RUN_ERROR ends the run whatever is still open.
            RunErrorEvent(message="model overloaded", code="overloaded"),
        )
    )


def scenario_garbage(run: Run) -> AsyncIterator[bytes]:
    head = events(
        run.started(),
        TextMessageStartEvent(message_id="msg-g-1", role="assistant"),
        TextMessageContentEvent(message_id="msg-g-1", delta="before garbage"),
    )
    tail = events(
        TextMessageContentEvent(message_id="msg-g-1", delta=" after garbage"),
        TextMessageEndEvent(message_id="msg-g-1"),
        run.finished(),
    )
    return paced([*head, b"data: {not json\n\n", *tail])


async def scenario_never_ending(run: Run) -> AsyncIterator[bytes]:
    for chunk in events(run.started(), TextMessageStartEvent(message_id="msg-ne-1", role="assistant")):
        yield chunk
    tick = 0
    while True:  # ends only when the client disconnects (watch_stream logs it)
        await asyncio.sleep(0.1)
        yield frame(TextMessageContentEvent(message_id="msg-ne-1", delta=f"tick {tick} "))
        tick += 1


@lru_cache(maxsize=2)
def _huge_frame(size: int) -> bytes:
    return frame(TextMessageContentEvent(message_id="msg-huge-1", delta="x" * size))


def scenario_huge_line(run: Run) -> AsyncIterator[bytes]:
    size = int(run.query.get("bytes", HUGE_LINE_BYTES))
    return paced(
        [
            *events(run.started(), TextMessageStartEvent(message_id="msg-huge-1", role="assistant")),
            _huge_frame(size),  # one line: `data: {"type":"TEXT_MESSAGE_CONTENT",...,"delta":"xxxx..."}`
            *events(TextMessageEndEvent(message_id="msg-huge-1"), run.finished()),
        ]
    )


# ---------------------------------------------------------------------------------------------
# sse-edge: a valid run (text "Edge cases, naïve café ☕ done.") with a hostile wire format.


def _sse_edge_wire(run: Run) -> bytes:
    mid = "msg-sse-1"

    def content(delta: str) -> str:
        return wire_json(TextMessageContentEvent(message_id=mid, delta=delta))

    # The JSON of one event split in two: SSE joins multi-line data with "\n", which is JSON whitespace.
    split_event = content("cases, ")
    cut_at = split_event.index('"delta"')
    text = "".join(
        [
            ": letterbox scripted peer, SSE edge cases follow\r\n",  # comment line
            "retry: 1500\r\n",  # reconnection time: to be ignored
            "\r\n",  # a block without data dispatches nothing
            "event: agui\r\nid: 1\r\n",  # event type and id fields: to be ignored
            f"data: {wire_json(run.started())}\r\n\r\n",
            f"data:{wire_json(TextMessageStartEvent(message_id=mid, role='assistant'))}\r\n\r\n",  # no space after colon
            f"data: {content('Edge ')}\r\n\r\n",
            ": keep-alive\r\n\r\n",  # comment-only block
            f"data: {split_event[:cut_at]}\r\ndata: {split_event[cut_at:]}\r\n\r\n",  # multi-line data
            f"id: 2\nx-unknown-field: ignored\ndata: {content('naïve café ☕ ')}\n\n",  # LF line endings
            f"data: {content('done.')}\r\n\r\n",
            f"data: {wire_json(TextMessageEndEvent(message_id=mid))}\r\n\r\n",
            f"data: {wire_json(run.finished())}\r\n\r\n",
        ]
    )
    return text.encode()


def _split_points(wire: bytes) -> list[int]:
    """Where to cut the wire into writes: between every CR and LF, inside multi-byte UTF-8
    characters, and at seeded pseudo-random places in between."""
    points = {i + 1 for i in range(len(wire) - 1) if wire[i : i + 2] == b"\r\n"}
    for char in ("ï", "é", "☕"):
        start = wire.find(char.encode())
        points.update(range(start + 1, start + len(char.encode())))
    rng = random.Random(20261121)
    position = 0
    while position < len(wire):
        position += rng.randint(1, 40)
        points.add(position)
    return sorted(p for p in points if 0 < p < len(wire))


async def scenario_sse_edge(run: Run) -> AsyncIterator[bytes]:
    wire = _sse_edge_wire(run)
    bounds = [0, *_split_points(wire), len(wire)]
    for start, end in zip(bounds, bounds[1:]):
        yield wire[start:end]
        await asyncio.sleep(0.003)  # separate writes, so they reach the client as separate TCP segments


# ---------------------------------------------------------------------------------------------
# interrupt: the AG-UI interrupt lifecycle (docs.ag-ui.com/concepts/interrupts).

DEPLOY_CALL = "tc-deploy-1"
DEPLOY_ARGS = ('{"environment": ', '"production", ', '"version": "1.4.2"}')
APPROVAL_SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "editedArgs": {"type": "object"}, "reason": {"type": "string"}},
    "required": ["approved"],
}
DEPLOY_INTERRUPTS = [
    Interrupt(
        id="int-1",
        reason="tool_call",
        tool_call_id=DEPLOY_CALL,
        message="Deploy to production?",
        response_schema=APPROVAL_SCHEMA,
    ),
    Interrupt(id="int-2", reason="confirmation", message="Also notify the team?"),
]


@dataclass
class ThreadState:
    """Interrupt bookkeeping for one threadId (in memory, for the life of the process)."""

    pending: set[str] = field(default_factory=set)
    # The last resume that was accepted, and the decisions it produced, so a replay is idempotent.
    accepted_resume: list[dict[str, Any]] | None = None
    decisions: list[str] = field(default_factory=list)


THREADS: dict[str, ThreadState] = {}


def _failed(run: Run, message: str, code: str) -> AsyncIterator[bytes]:
    return paced(events(run.started(), RunErrorEvent(message=message, code=code)))


def _approved(entry: dict[str, Any]) -> bool:
    return entry.get("status") == "resolved" and (entry.get("payload") or {}).get("approved") is True


def _decision(entry: dict[str, Any]) -> str:
    """``int-1 resolved {"approved":true}``; a cancelled entry has no payload to show."""
    decision = f"{entry['interruptId']} {entry['status']}"
    if "payload" in entry:
        decision += " " + json.dumps(entry["payload"], separators=(",", ":"))
    return decision


def _resume_problem(state: ThreadState, resume: list[dict[str, Any]]) -> tuple[str, str] | None:
    """Check a resume against the pending interrupts; (message, code) if it must be refused."""
    ids = [entry["interruptId"] for entry in resume]
    if unknown := sorted(set(ids) - state.pending):
        return f"unknown interrupt id(s) {', '.join(unknown)}", "unknown_interrupt"
    if missing := sorted(state.pending - set(ids)):
        return f"resume must address every open interrupt; missing {', '.join(missing)}", "resume_incomplete"
    for entry in resume:
        if entry["status"] != "resolved":
            continue
        payload = entry.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("approved"), bool):
            return f"payload for {entry['interruptId']} must be an object with a boolean `approved`", "invalid_payload"
    return None


def _resumed_run(run: Run, state: ThreadState) -> AsyncIterator[bytes]:
    by_id = {entry["interruptId"]: entry for entry in state.accepted_resume or []}
    deploy, notify = by_id["int-1"], by_id["int-2"]
    if _approved(deploy):
        result = "deployed 1.4.2 to production"
    elif deploy.get("status") == "cancelled":
        result = "deploy cancelled"
    else:
        result = f"deploy rejected: {(deploy.get('payload') or {}).get('reason') or 'no reason given'}"
    team = "team notified" if _approved(notify) else "team not notified"
    # The tool call spans both runs: the resumed run emits only its TOOL_CALL_RESULT, never
    # TOOL_CALL_START/ARGS/END again.
    return paced(
        events(
            run.started(),
            ToolCallResultEvent(message_id="toolmsg-deploy-1", tool_call_id=DEPLOY_CALL, content=result, role="tool"),
            text_message("msg-int-2", f"Decisions: {'; '.join(state.decisions)}. ", f"Result: {result}; {team}."),
            run.finished(),
        )
    )


def scenario_interrupt(run: Run) -> AsyncIterator[bytes]:
    assert run.input is not None
    state = THREADS.setdefault(run.thread_id, ThreadState())
    resume = [entry.model_dump(by_alias=True) for entry in run.input.resume or []]

    if not resume:
        if state.pending:
            pending = ", ".join(sorted(state.pending))
            return _failed(run, f"thread has pending interrupts ({pending}); send a resume for all of them", "interrupts_pending")
        # A fresh run: propose the deploy, then stop and ask.
        state.pending = {interrupt.id for interrupt in DEPLOY_INTERRUPTS}
        state.accepted_resume = None
        proposal = AssistantMessage(
            id="msg-int-1",
            content="I will deploy version 1.4.2.",
            tool_calls=[ToolCall(id=DEPLOY_CALL, function=FunctionCall(name="deploy", arguments="".join(DEPLOY_ARGS)))],
        )
        return paced(
            events(
                run.started(),
                text_message("msg-int-1", "I will deploy ", "version 1.4.2."),
                tool_call(DEPLOY_CALL, "deploy", "msg-int-1", *DEPLOY_ARGS),
                # The spec asks for both snapshots before the interrupting RUN_FINISHED.
                StateSnapshotEvent(snapshot={"deploy": {"status": "awaiting_approval"}}),
                MessagesSnapshotEvent(messages=[*run.input.messages, proposal]),
                run.finished(RunFinishedInterruptOutcome(interrupts=DEPLOY_INTERRUPTS)),
            )
        )

    if not state.pending:
        if resume == state.accepted_resume:  # a replay of the resume already accepted: same answer
            return _resumed_run(run, state)
        return _failed(run, "no interrupts are pending on this thread", "unknown_interrupt")
    if problem := _resume_problem(state, resume):
        return _failed(run, *problem)  # the interrupts stay pending; the client may try again
    state.pending = set()
    state.accepted_resume = resume
    state.decisions = [_decision(entry) for entry in sorted(resume, key=lambda e: e["interruptId"])]
    return _resumed_run(run, state)


# ---------------------------------------------------------------------------------------------
# umbraco-interrupt: Umbraco.AI's dialect. RUN_FINISHED carries a string outcome and one
# `interrupt` object; the resume comes back as one object {interruptId, payload} without status.

UMBRACO_CALL = "call-umb-1"
UMBRACO_INTERRUPT_ID = f"approval:{UMBRACO_CALL}"
UMBRACO_PENDING: set[str] = set()  # threadIds waiting for an answer


def _umbraco_finished(run: Run, outcome: str, **extra: Any) -> bytes:
    return raw_frame({"type": "RUN_FINISHED", "threadId": run.thread_id, "runId": run.run_id, "outcome": outcome, **extra})


def _umbraco_approves(payload: Any) -> bool:
    """Umbraco clients answer with an object or with the chosen option's value."""
    if isinstance(payload, dict):
        return payload.get("approved") is True
    return str(payload).lower() in {"true", "yes", "approve", "approved"}


def scenario_umbraco_interrupt(run: Run) -> AsyncIterator[bytes]:
    resume = run.body.get("resume")
    started = RunStartedEvent(thread_id=run.thread_id, run_id=run.run_id)  # Umbraco declares no protocolVersion

    if resume is None and run.thread_id not in UMBRACO_PENDING:
        UMBRACO_PENDING.add(run.thread_id)
        interrupt = {
            "id": UMBRACO_INTERRUPT_ID,
            "reason": "human_approval",
            "payload": {
                "toolCallId": UMBRACO_CALL,
                "toolName": "publish_content",
                "args": {"node": "home"},
                "message": "Publish the home page?",
            },
        }
        return paced(
            [
                *events(
                    started,
                    text_message("msg-umb-1", "I need approval ", "to publish the home page."),
                    tool_call(UMBRACO_CALL, "publish_content", "msg-umb-1", '{"node": ', '"home"}'),
                ),
                _umbraco_finished(run, "interrupt", interrupt=interrupt),
            ]
        )

    if not isinstance(resume, dict) or resume.get("interruptId") != UMBRACO_INTERRUPT_ID:
        message = f"expected resume {{interruptId: {UMBRACO_INTERRUPT_ID!r}, payload}} as one object"
        return _failed_umbraco(run, started, message)
    if run.thread_id not in UMBRACO_PENDING:
        return _failed_umbraco(run, started, "no interrupt is pending on this thread")
    UMBRACO_PENDING.discard(run.thread_id)
    approved = _umbraco_approves(resume.get("payload"))
    result = "published home" if approved else "not published"
    return paced(
        [
            *events(
                started,
                ToolCallResultEvent(message_id="toolmsg-umb-1", tool_call_id=UMBRACO_CALL, content=result, role="tool"),
                text_message("msg-umb-2", f"Answer {json.dumps(resume.get('payload'))}: {result}."),
            ),
            _umbraco_finished(run, "success"),
        ]
    )


def _failed_umbraco(run: Run, started: RunStartedEvent, message: str) -> AsyncIterator[bytes]:
    return paced(events(started, RunErrorEvent(message=message, code="invalid_resume")))


# ---------------------------------------------------------------------------------------------
# subagents: AG-UI 1.0's subagent lifecycle, attribution by subagentRunId, activity, usage.


def scenario_subagents(run: Run) -> AsyncIterator[bytes]:
    sub = "sub-research-1"
    return paced(
        events(
            run.started(),
            text_message("msg-sa-1", "Delegating to the researcher."),
            tool_call("tc-sa-delegate", "delegate", "msg-sa-1", '{"task": "find the <b>forecast</b>"}'),
            SubagentStartedEvent(
                subagent_run_id=sub, name="researcher", description="looks things up", parent_tool_call_id="tc-sa-delegate"
            ),
            ToolCallStartEvent(tool_call_id="tc-sa-search", tool_call_name="search", subagent_run_id=sub),
            ToolCallArgsEvent(tool_call_id="tc-sa-search", delta='{"q": "forecast"}', subagent_run_id=sub),
            ToolCallEndEvent(tool_call_id="tc-sa-search", subagent_run_id=sub),
            ToolCallResultEvent(
                message_id="toolmsg-sa-1", tool_call_id="tc-sa-search", content="rain", role="tool", subagent_run_id=sub
            ),
            TextMessageStartEvent(message_id="msg-sa-sub", role="assistant", subagent_run_id=sub),
            TextMessageContentEvent(message_id="msg-sa-sub", delta="The forecast says rain.", subagent_run_id=sub),
            TextMessageEndEvent(message_id="msg-sa-sub", subagent_run_id=sub),
            SubagentFinishedEvent(subagent_run_id=sub, result={"forecast": "rain"}),
            SubagentStartedEvent(subagent_run_id="sub-writer-1", name="writer"),
            SubagentErrorEvent(subagent_run_id="sub-writer-1", message="writer quota exhausted", code="quota"),
            ToolCallResultEvent(message_id="toolmsg-sa-2", tool_call_id="tc-sa-delegate", content="rain", role="tool"),
            ActivitySnapshotEvent(message_id="act-sa-1", activity_type="progress", content={"done": 1, "total": 2}),
            ActivityDeltaEvent(
                message_id="act-sa-1", activity_type="progress", patch=[{"op": "replace", "path": "/done", "value": 2}]
            ),
            text_message("msg-sa-2", "Bring an umbrella."),
            RunFinishedEvent(
                thread_id=run.thread_id,
                run_id=run.run_id,
                outcome=RunFinishedSuccessOutcome(),
                usage=[TokenUsage(provider="scripted", model="peer-1", input_tokens=12, output_tokens=30, total_tokens=42)],
            ),
        )
    )


# ---------------------------------------------------------------------------------------------
# custom-interrupt: the interrupt as a CUSTOM `on_interrupt` event followed by a plain RUN_FINISHED
# (LangGraph's AG-UI adapter, the dojo `interrupt` demo, Mastra). The answer comes back in
# forwardedProps.command.resume (CopilotKit's useLangGraphInterrupt), never as a `resume` entry.

CUSTOM_PENDING: set[str] = set()


def scenario_custom_interrupt(run: Run) -> AsyncIterator[bytes]:
    command = ((run.body.get("forwardedProps") or {}).get("command") or {})
    if "resume" not in command:
        if run.body.get("resume"):
            return _failed(run, "this agent reads answers from forwardedProps.command.resume", "unexpected_resume")
        CUSTOM_PENDING.add(run.thread_id)
        value = json.dumps({"id": "ask-email", "message": "Send the summary email to the team?"})
        return paced(
            events(
                run.started(),
                text_message("msg-ci-1", "I drafted the email."),
                CustomEvent(name="on_interrupt", value=value),
                RunFinishedEvent(thread_id=run.thread_id, run_id=run.run_id),
            )
        )
    if run.thread_id not in CUSTOM_PENDING:
        return _failed(run, "no interrupt is pending on this thread", "unknown_interrupt")
    CUSTOM_PENDING.discard(run.thread_id)
    answer = command["resume"]
    sent = isinstance(answer, dict) and answer.get("approved") is True
    outcome = "email sent" if sent else f"email not sent ({(answer or {}).get('reason', 'no reason')})"
    return paced(events(run.started(), text_message("msg-ci-2", f"Answer {json.dumps(answer)}: {outcome}."), run.finished()))


def scenario_cancelled(run: Run) -> AsyncIterator[bytes]:
    return paced(
        events(
            run.started(),
            text_message("msg-cx-1", "Starting, then stopped."),
            RunFinishedEvent(thread_id=run.thread_id, run_id=run.run_id, outcome=RunFinishedCancelledOutcome()),
        )
    )


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class Scenario:
    stream: Callable[[Run], AsyncIterator[bytes]]
    response: type[StreamingResponse] = StreamingResponse
    validate: bool = True  # parse the body as a RunAgentInput, answering 422 when it isn't one


SCENARIOS: dict[str, Scenario] = {
    "ok": Scenario(scenario_ok),
    "chunks": Scenario(scenario_chunks),
    "everything": Scenario(scenario_everything),
    "sse-edge": Scenario(scenario_sse_edge),
    "out-of-order": Scenario(scenario_out_of_order),
    "cut": Scenario(scenario_cut, response=CutResponse),
    "truncated": Scenario(scenario_truncated),
    "run-error": Scenario(scenario_run_error),
    "garbage": Scenario(scenario_garbage),
    "never-ending": Scenario(scenario_never_ending),
    "huge-line": Scenario(scenario_huge_line),
    "interrupt": Scenario(scenario_interrupt),
    "umbraco-interrupt": Scenario(scenario_umbraco_interrupt, validate=False),
    "subagents": Scenario(scenario_subagents),
    "custom-interrupt": Scenario(scenario_custom_interrupt),
    "cancelled": Scenario(scenario_cancelled),
}


def build_app(log: EventLog) -> Starlette:
    async def handle(request: Request) -> Response:
        name = request.path_params["scenario"]
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        log.write("request", scenario=name, body=body, headers=request_headers(request))

        scenario = SCENARIOS.get(name)
        if scenario is None:
            log.write("rejected", scenario=name, status=404)
            return JSONResponse({"error": f"unknown scenario {name!r}", "scenarios": list(SCENARIOS)}, status_code=404)
        if not isinstance(body, dict):
            log.write("rejected", scenario=name, status=400)
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        run_input = None
        if scenario.validate:
            try:
                run_input = RunAgentInput.model_validate(body)
            except ValidationError as e:
                log.write("rejected", scenario=name, status=422)
                return JSONResponse({"error": "not a RunAgentInput", "detail": json.loads(e.json())}, status_code=422)

        run = Run(
            thread_id=str(body.get("threadId", "thread-unknown")),
            run_id=str(body.get("runId", "run-unknown")),
            body=body,
            query=dict(request.query_params),
            input=run_input,
        )
        stream = watch_stream(scenario.stream(run), log, scenario=name)
        return scenario.response(stream, media_type=SSE_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})

    return Starlette(routes=[Route("/{scenario}", handle, methods=["POST"])])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    serve(build_app(EventLog(args.log)), args.port)


if __name__ == "__main__":
    main()
