/**
 * The broker refuses this producer's epoch: a newer producer with the same transactional id
 * exists, or the coordinator aborted this producer's transaction after its timeout (which also
 * bumps the epoch). kafkajs wraps protocol errors (retries exceeded, aggregates), so look inside.
 */
export function isFenced(error: unknown): boolean {
  return anyWrapped(error, ({ type, message }) => {
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED') return true;
    // kafkajs 2.2 predates PRODUCER_FENCED (90); brokers answer its request versions with 47, but be sure.
    return type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && message === 'Unknown error code 90';
  });
}

/**
 * Whether kafkajs gave up on something that may work later: the error, or one it wraps, is one
 * kafkajs marks retriable (a connection refused or lost, a request timed out, a leader or
 * controller moving). Its retries exhausted, kafkajs throws a non-retriable wrapper around the
 * last such error; a permanent refusal (an authorization, a policy) is not retriable anywhere.
 */
export function isTransient(error: unknown): boolean {
  return anyWrapped(error, ({ retriable }) => retriable === true);
}

interface KafkajsErrorFields {
  readonly type?: unknown;
  readonly message?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** Whether `error` or one kafkajs wrapped in it (its `cause`, an aggregate's `errors`, a few levels deep) passes `test`. */
function anyWrapped(error: unknown, test: (error: KafkajsErrorFields) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const fields = error as KafkajsErrorFields;
  if (test(fields)) return true;
  if (Array.isArray(fields.errors) && fields.errors.some((e) => anyWrapped(e, test, depth + 1))) return true;
  return anyWrapped(fields.cause, test, depth + 1);
}
