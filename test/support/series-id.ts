/**
 * `name{a="x",b="y"}`: labels sorted, `__name__` taken out and put in front (empty when absent),
 * values JSON-quoted. One stable id per series, for the test oracles (kept independent of src/).
 */
export function seriesId(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const body = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(',');
  return `${name ?? ''}{${body}}`;
}
