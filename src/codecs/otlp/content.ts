/**
 * Attributes that carry prompt / completion / tool content (user text, possibly PII). The OTLP
 * decoders drop them unless `keep_content_attributes: true`, so no pipeline can turn them into a
 * label (or a series per prompt) by accident; a later PII-counting feature must opt in explicitly.
 *
 * - OpenTelemetry GenAI semantic conventions (opt-in content attributes): gen_ai.input.messages,
 *   gen_ai.output.messages, gen_ai.system_instructions, gen_ai.tool.definitions,
 *   gen_ai.tool.call.arguments, gen_ai.tool.call.result; and the deprecated gen_ai.prompt /
 *   gen_ai.completion (on the old gen_ai.content.* events).
 * - Indexed forms from OpenLLMetry-style instrumentations: gen_ai.prompt.0.content, gen_ai.completion.*.
 * - OpenInference (Arize / Phoenix): input.value, output.value, llm.input_messages.*, llm.output_messages.*.
 * - Anything whose last segment is `content` (`*.content`, e.g. gen_ai.choice.message.content).
 * - HTTP headers the instrumentations copy onto spans: gen_ai.headers (Traceloop's request headers,
 *   which carry API keys and user ids), llm.headers, and any `*.headers` / `http.request.header.*` /
 *   `http.response.header.*`.
 * - Exceptions: exception.message and exception.stacktrace (on `exception` events, or on the span
 *   since semconv 1.40), which quote request bodies and prompts; the span's status message, which
 *   instrumentations fill with the exception text, is dropped by the decoders for the same reason.
 */
const EXACT = new Set([
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.prompt',
  'gen_ai.completion',
  'input.value',
  'output.value',
  'llm.input_messages',
  'llm.output_messages',
  'exception.message',
  'exception.stacktrace',
]);

const PREFIXES = [
  'gen_ai.prompt.',
  'gen_ai.completion.',
  'llm.input_messages.',
  'llm.output_messages.',
  'http.request.header.',
  'http.response.header.',
];

export function isContentAttribute(key: string): boolean {
  if (EXACT.has(key)) return true;
  if (key.endsWith('.content') || key === 'content') return true;
  if (key.endsWith('.headers') || key === 'headers') return true;
  for (const prefix of PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}
