"""Drives a real OpenAI instrumentation against a fake OpenAI-compatible server and prints what
Sluice's test needs, as one JSON object on stdout:

- messages: ExportTraceServiceRequest bytes (base64), a few spans each, as the OpenTelemetry
  Collector's Kafka exporter (encoding otlp_proto) writes them;
- spans: what is on every span (ids, times in ns, status, scalar attributes, event names and
  times), for the test's oracle;
- served: what the fake server answered to each request (id, model, usage, chunks, status).

Usage: drive.py LIBRARY TENANT, LIBRARY one of openai-v2, traceloop. The scenario: plain chats,
streamed chats (with usage in the last chunk), a rate-limited call, and agent runs in the GenAI
conventions' shape (invoke_agent spans around the instrumented chat calls, execute_tool spans for
the tool calls the model asks for), one of them inside an invoke_workflow span.
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = "SLUICE-CONTENT-MARKER"

# Each request takes the next script entry: (kind, prompt tokens, completion tokens, cached tokens, chunks).
SCRIPT = []
SERVED = []
LOCK = threading.Lock()


class FakeOpenAI(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: stdout carries the JSON result
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        with LOCK:
            kind, prompt, completion, cached, chunks = SCRIPT.pop(0)
            ident = f"chatcmpl-{len(SERVED) + 1}"
            served = {"id": ident, "kind": kind, "model": body.get("model"), "stream": bool(body.get("stream")), "prompt_tokens": prompt, "completion_tokens": completion, "cached_tokens": cached, "chunks": chunks}
            SERVED.append(served)
        if kind == "rate_limited":
            served["status"] = 429
            return self.reply(429, {"error": {"message": f"Rate limit reached {MARKER}", "type": "requests", "code": "rate_limit_exceeded"}})
        served["status"] = 200
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, "prompt_tokens_details": {"cached_tokens": cached}}
        model = "gpt-4o-mini-2024-07-18"
        if kind == "tool_call":
            message = {"role": "assistant", "content": None, "tool_calls": [{"id": f"call_{ident}", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": MARKER})}}]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": f"{MARKER} sunny"}
            finish = "stop"
        if not served["stream"]:
            return self.reply(200, {"id": ident, "object": "chat.completion", "created": int(time.time()), "model": model, "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        time.sleep(0.03)  # time to first chunk
        for i in range(chunks):
            delta = {"role": "assistant", "content": f"{MARKER} w{i} "} if i == 0 else {"content": f"w{i} "}
            self.event({"id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish if i == chunks - 1 else None}]})
            time.sleep(0.004)
        self.event({"id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model, "choices": [], "usage": usage})
        self.chunk(b"data: [DONE]\n\n")
        self.chunk(b"")

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def event(self, payload):
        self.chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def chunk(self, data):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def main():
    library, tenant = sys.argv[1], sys.argv[2]
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"  # content on spans: Sluice must drop it
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"

    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"agent-app-{library}", "tenant.id": tenant}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if library == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=provider)

    import openai

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key=f"sk-{MARKER}", max_retries=0)
    tracer = trace.get_tracer("sluice.test.agents")
    headers = {"X-User-Note": MARKER}

    def chat(stream=False, tools=None):
        messages = [{"role": "user", "content": f"{MARKER} weather in Paris?"}]
        kwargs = {"model": "gpt-4o-mini", "messages": messages, "extra_headers": headers}
        if tools:
            kwargs["tools"] = tools
        if stream:
            for _ in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs):
                pass
        else:
            client.chat.completions.create(**kwargs)

    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]

    def agent(name, tool_rounds, failing_tool=False):
        with tracer.start_as_current_span(f"invoke_agent {name}", attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name, "gen_ai.request.model": "gpt-4o-mini"}):
            for _ in range(tool_rounds):
                chat(tools=tools)  # the model asks for a tool
                with tracer.start_as_current_span("execute_tool get_weather", attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.type": "function"}) as tool:
                    time.sleep(0.02)
                    if failing_tool:
                        # The SDK records the exception as an event, message and stack trace included.
                        tool.set_attribute("error.type", "ValueError")
                        try:
                            raise ValueError(f"{MARKER} no forecast for this city")
                        except ValueError as error:
                            tool.record_exception(error)
                            tool.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
            chat(stream=True, tools=tools)  # the final answer, streamed

    # The script, in request order.
    SCRIPT.extend([("text", 12, 30, 0, 0), ("text", 1500, 2, 1024, 0), ("text", 70000, 300, 0, 0)])
    for _ in range(3):
        chat()
    SCRIPT.extend([("text", 40, 5, 0, 5), ("text", 300, 17, 128, 17), ("text", 9, 1, 0, 1)])
    for _ in range(3):
        chat(stream=True)
    SCRIPT.append(("rate_limited", 0, 0, 0, 0))
    try:
        chat()
    except openai.RateLimitError:
        pass
    SCRIPT.extend([("tool_call", 200, 20, 0, 0), ("text", 260, 40, 0, 8)])
    agent("weather-agent", 1)
    SCRIPT.extend([("tool_call", 210, 21, 0, 0), ("tool_call", 230, 22, 64, 0), ("text", 300, 50, 0, 4)])
    with tracer.start_as_current_span("invoke_workflow trip", attributes={"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "trip"}):
        agent("trip-agent", 2, failing_tool=True)
    SCRIPT.extend([("text", 100, 10, 0, 3)])
    agent("no-tool-agent", 0)
    server.shutdown()
    provider.force_flush()

    finished = list(exporter.get_finished_spans())
    messages = [base64.b64encode(encode_spans(finished[i:i + 3]).SerializeToString()).decode() for i in range(0, len(finished), 3)]
    scalar = (str, bool, int, float)
    spans = [
        {
            "trace_id": format(s.context.trace_id, "032x"),
            "span_id": format(s.context.span_id, "016x"),
            "parent_span_id": format(s.parent.span_id, "016x") if s.parent else "",
            "name": s.name,
            "start_ns": str(s.start_time),
            "end_ns": str(s.end_time),
            "status": s.status.status_code.name,
            "attributes": {k: v for k, v in (s.attributes or {}).items() if isinstance(v, scalar)},
            "events": [{"name": e.name, "time_ns": str(e.timestamp)} for e in s.events],
        }
        for s in finished
    ]
    json.dump({"messages": messages, "spans": spans, "served": SERVED}, sys.stdout)


if __name__ == "__main__":
    main()
