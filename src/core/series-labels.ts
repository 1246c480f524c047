/**
 * Label rules shared across layers: the tenancy schema validates tenant labels with them, stage 2
 * and the sinks build overflow series with them. In core so that neither has to import the other.
 */

/** Prometheus label names; also what OTLP receivers translating to Prometheus accept unchanged. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Marks the one series per metric that new series fold into beyond a cardinality limit (the OpenTelemetry SDK's name). */
export const OVERFLOW_LABEL = 'otel_metric_overflow';
