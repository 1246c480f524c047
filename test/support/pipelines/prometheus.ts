// Prometheus HTTP API reads for the shipped-pipeline tests: raw samples (matrix) and series lists.
// The HTTP access lives in test/stack.
export { listSeries, querySamples, type SeriesSamples } from '../../stack/prometheus-query.ts';
