// Matrix queries against a tenant's Prometheus for the exactly-once scenarios: every raw sample
// with its own timestamp (querySamples) and query_range. The HTTP access lives in test/stack.
export { querySamples, queryRange, type SeriesSamples } from '../../stack/prometheus-query.ts';
