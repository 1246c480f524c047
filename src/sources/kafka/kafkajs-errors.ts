/**
 * The broker refuses this producer's epoch: a newer producer with the same transactional id
 * exists, or the coordinator aborted this producer's transaction after its timeout (which also
 * bumps the epoch). kafkajs wraps protocol errors (retries exceeded, aggregates), so look inside.
 */
export function isFenced(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { type, message, cause, errors } = error as { type?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED') return true;
  // kafkajs 2.2 predates PRODUCER_FENCED (90); brokers answer its request versions with 47, but be sure.
  if (type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && message === 'Unknown error code 90') return true;
  if (Array.isArray(errors) && errors.some((e) => isFenced(e, depth + 1))) return true;
  return isFenced(cause, depth + 1);
}

/**
 * Whether kafkajs gave up on something that may work later: the error, or one it wraps, is one
 * kafkajs marks retriable (a connection refused or lost, a request timed out, a leader or
 * controller moving). Its retries exhausted, kafkajs throws a non-retriable wrapper around the
 * last such error; a permanent refusal (an authorization, a policy) is not retriable anywhere.
 */
export function isTransient(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { retriable, cause, originalError, errors } = error as { retriable?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (retriable === true) return true;
  if (Array.isArray(errors) && errors.some((e) => isTransient(e, depth + 1))) return true;
  return isTransient(cause ?? originalError, depth + 1);
}
