import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parsePipeline } from '../../src/config/load.ts';
import { checkStartup } from '../../src/config/startup-check.ts';
import { configProblems, lineOf } from '../support/config-problems.ts';
import { scratchDir } from '../support/scratch-dir.ts';

const pipelinesDir = fileURLToPath(new URL('../../pipelines/', import.meta.url));
const shipped = readFileSync(join(pipelinesDir, 'bailian-gateway.yaml'), 'utf8');

/**
 * What `sluice validate` and `sluice run` report for `text`: the schema, then everything start-up
 * builds from the config (relative paths resolve as for a file in pipelines/).
 */
function startupProblems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    checkStartup({ ...parsePipeline(text, 'p.yaml', env), baseDir: pipelinesDir }, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

/** The shipped pipeline with one line replaced. */
function edit(find: string, replace: string): string {
  expect(shipped).toContain(find);
  return shipped.replace(find, replace);
}

describe('pipeline config errors', () => {
  it('accepts the shipped pipeline and fills defaults', () => {
    const { config } = parsePipeline(shipped, 'p.yaml', {});
    expect(config.window).toEqual({ type: 'tumbling', size: 10_000, max_out_of_orderness: 5_000, allowed_lateness: 0, idle_timeout: 10_000 });
    expect(config.source.brokers).toEqual(['127.0.0.1:9092']);
    expect(Object.keys(config.tenants.tenants)).toEqual(['acme', 'globex', 'initech']);
    expect(config.tenants.tenants.globex).toMatchObject({ headers: { 'X-Scope-OrgID': 'globex' } });
    expect(config.tenants.default_route).toBeUndefined();
  });

  it('takes a unit beside help on a metric, and refuses one with spaces', () => {
    const good = edit('    help: Prompt tokens billed.', '    help: Prompt tokens billed.\n    unit: "{token}"');
    const metric = parsePipeline(good, 'p.yaml', {}).config.metrics.find((m) => m.help === 'Prompt tokens billed.');
    expect(metric).toMatchObject({ unit: '{token}' });
    const bad = edit('    help: Prompt tokens billed.', '    help: Prompt tokens billed.\n    unit: per token');
    expect(configProblems(bad)).toEqual([
      `p.yaml:${lineOf(bad, 'unit: per token')}:11: metrics[1].unit: units are printable ASCII without spaces, e.g. "s", "By", "{token}"`,
    ]);
  });

  it('names file, line, column and path of a bad duration', () => {
    const text = edit('size: 10s', 'size: ten seconds');
    expect(configProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'size: ten')}:9: window.size: expected a duration such as "500ms", "30s", "5m" or "1h"`,
    ]);
  });

  it('points into arrays with an index', () => {
    const text = edit('buckets: [0.01, 0.02, 0.04,', 'buckets: [0.02, 0.01, 0.04,');
    expect(configProblems(text)).toEqual([`p.yaml:${lineOf(text, 'buckets: [0.02')}:14: metrics[3].buckets: buckets must be strictly increasing`]);
  });

  it('rejects unknown keys at the key', () => {
    const text = edit('  allowed_lateness: 0s', '  allowed_latenes: 0s');
    expect(configProblems(text)).toEqual([`p.yaml:${lineOf(text, 'allowed_latenes:')}:3: window: Unrecognized key: "allowed_latenes"`]);
  });

  it('requires counters to end in _total', () => {
    const text = edit('name: bailian_gateway_input_tokens_total', 'name: bailian_gateway_input_tokens');
    expect(configProblems(text)).toEqual([`p.yaml:${lineOf(text, 'name: bailian_gateway_input_tokens')}:11: metrics[1].name: counter names must end in "_total"`]);
  });

  it('reports duplicate metric names', () => {
    const text = edit('name: bailian_gateway_output_tokens_total', 'name: bailian_gateway_input_tokens_total');
    // The metric's own entry, not the `tests:` expectations that name its series too.
    const line = text.split('\n').findLastIndex((l) => l.startsWith('  - name: bailian_gateway_input_tokens_total')) + 1;
    expect(configProblems(text)).toEqual([`p.yaml:${line}:11: metrics[2].name: duplicate metric name "bailian_gateway_input_tokens_total" (also metrics[1])`]);
  });

  it('refuses to let tenant headers override the remote-write headers', () => {
    const text = edit('headers: { X-Scope-OrgID: globex }', 'headers: { X-Scope-OrgID: globex, Content-Type: text/plain }');
    expect(configProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'Content-Type: text/plain')}:53: tenants.globex.headers["Content-Type"]: header "Content-Type" cannot be set: the remote-write sink sets Content-Type itself`,
    ]);
  });

  it('names an unset environment variable, never a value', () => {
    const text = edit('${SLUICE_TENANT_ACME_URL:-http://127.0.0.1:9191/api/v1/write}', '${ACME_URL}');
    expect(configProblems(text)).toEqual([`p.yaml:${lineOf(text, '${ACME_URL}')}:15: environment variable ACME_URL is not set`]);
  });

  it('refuses keys that collide once the environment is interpolated, naming no value', () => {
    const text = edit('  initech:', '  ${OTHER_TENANT}:');
    expect(configProblems(text, { OTHER_TENANT: 'acme' })).toEqual([
      `p.yaml:${lineOf(text, '${OTHER_TENANT}')}:3: this key repeats an earlier key of its mapping once the environment is interpolated`,
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(configProblems('name: x\nsource: [\n')).toEqual([expect.stringMatching(/^p\.yaml:\d+:\d+: /)]);
  });

  it('reports a missing section at the document root', () => {
    const text = shipped.replace(/\ndead_letter:\n  topic: [^\n]+\n/, '\n');
    expect(configProblems(text)).toEqual([`p.yaml:${lineOf(text, 'name: bailian-gateway')}:1: dead_letter: Invalid input: expected object, received undefined`]);
  });
});

/** The globex tenant of the shipped pipeline, with its entry replaced by `entry` (YAML flow-mapping fields). */
function globex(entry: string): string {
  return edit('    headers: { X-Scope-OrgID: globex }', `    ${entry}`);
}

describe('start-up checks: what makes `run` fail makes `validate` fail, at file:line:col', () => {
  it('accepts the shipped pipeline', () => {
    expect(startupProblems(shipped)).toEqual([]);
  });

  it('names a missing bearer_token_env variable', () => {
    const text = globex('auth: { bearer_token_env: GLOBEX_TOKEN }');
    expect(startupProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'GLOBEX_TOKEN')}:31: tenants.globex.auth.bearer_token_env: environment variable GLOBEX_TOKEN is not set`,
    ]);
    expect(startupProblems(text, { GLOBEX_TOKEN: 'tok-123456' })).toEqual([]);
  });

  it('checks an otlp tenant\'s secrets under sink:', () => {
    const text = edit(
      '    endpoint: ${SLUICE_TENANT_GLOBEX_URL:-http://127.0.0.1:9192/api/v1/write}\n    headers: { X-Scope-OrgID: globex }',
      '    sink: { type: otlp, endpoint: http://127.0.0.1:9192/api/v1/otlp, auth: { bearer_token_env: GLOBEX_TOKEN } }',
    );
    expect(startupProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'GLOBEX_TOKEN')}:96: tenants.globex.sink.auth.bearer_token_env: environment variable GLOBEX_TOKEN is not set`,
    ]);
    // Stage 2 emits metric points, so a pipeline feeds an otlp tenant: nothing else to report.
    expect(startupProblems(text, { GLOBEX_TOKEN: 'tok-123456' })).toEqual([]);
  });

  it('names a missing basic-auth password_env variable', () => {
    const text = globex('auth: { basic: { username: svc, password_env: GLOBEX_PASSWORD } }');
    expect(startupProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'GLOBEX_PASSWORD')}:51: tenants.globex.auth.basic.password_env: environment variable GLOBEX_PASSWORD is not set`,
    ]);
  });

  it('refuses CR or LF in a value_from_env value, naming the variable only', () => {
    const text = globex('headers: { X-Scope-OrgID: { value_from_env: GLOBEX_ORG } }');
    const found = startupProblems(text, { GLOBEX_ORG: 'globex\r\nX-Injected: s3cr3t-token-value' });
    expect(found).toEqual([
      `p.yaml:${lineOf(text, 'GLOBEX_ORG')}:49: tenants.globex.headers["X-Scope-OrgID"].value_from_env: environment variable GLOBEX_ORG contains CR, LF or NUL`,
    ]);
    expect(found.join('\n')).not.toContain('s3cr3t');
  });

  it('refuses a TLS file that cannot be read or is not PEM', () => {
    const dir = scratchDir('tls');
    const notPem = join(dir, 'ca.pem');
    writeFileSync(notPem, 'not a certificate\n');
    const https = (tls: string) =>
      edit('${SLUICE_TENANT_GLOBEX_URL:-http://127.0.0.1:9192/api/v1/write}', 'https://127.0.0.1:9192/api/v1/write').replace(
        '    headers: { X-Scope-OrgID: globex }',
        `    tls: ${tls}`,
      );
    const missing = https(`{ ca_file: ${join(dir, 'missing.pem')} }`);
    expect(startupProblems(missing)).toEqual([`p.yaml:${lineOf(missing, 'missing.pem')}:21: tenants.globex.tls.ca_file: cannot read the file: ENOENT`]);
    const garbage = https(`{ ca_file: ${notPem} }`);
    expect(startupProblems(garbage)).toEqual([
      `p.yaml:${lineOf(garbage, 'ca.pem')}:21: tenants.globex.tls.ca_file: not a PEM certificate (ERR_OSSL_PEM_NO_START_LINE)`,
    ]);
    const pair = https(`{ cert_file: ${notPem}, key_file: ${notPem} }`);
    expect(startupProblems(pair)).toEqual([
      `p.yaml:${lineOf(pair, 'cert_file')}:23: tenants.globex.tls.cert_file: cert_file and key_file are not a matching PEM certificate and key (ERR_OSSL_PEM_NO_START_LINE)`,
    ]);
  });

  it.each([
    ['a space', 'sluice dlq', 'Kafka topic names use only letters, digits, ".", "_" and "-"'],
    ['a dot', '.', 'a Kafka topic cannot be named "." or ".."'],
    ['two dots', '..', 'a Kafka topic cannot be named "." or ".."'],
    ['250 characters', 'd'.repeat(250), 'Kafka topic names are at most 249 characters'],
  ])('refuses a dead-letter topic name with %s', (_case, topic, message) => {
    const text = edit('topic: sluice.bailian-gateway.dlq', `topic: "${topic}"`);
    expect(startupProblems(text)).toEqual([`p.yaml:${lineOf(text, `topic: "${topic}"`)}:10: dead_letter.topic: ${message}`]);
  });

  it('accepts a 249-character dead-letter topic and refuses an illegal source topic', () => {
    expect(startupProblems(edit('topic: sluice.bailian-gateway.dlq', `topic: ${'d'.repeat(249)}`))).toEqual([]);
    const text = edit('topics: [bailian.gateway.logs]', 'topics: [bailian.gateway.logs, "logs/2"]');
    expect(startupProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'logs/2')}:34: source.topics[1]: Kafka topic names use only letters, digits, ".", "_" and "-"`,
    ]);
  });

  it('refuses a Redis URL that is not redis:// or rediss://, never printing it', () => {
    const redis = (url: string) => edit('backend: ${SLUICE_STATE_BACKEND:-memory}', 'backend: redis').replace('${SLUICE_REDIS_URL:-redis://127.0.0.1:6379}', url);
    const at = (text: string) => `p.yaml:${lineOf(text, 'redis_url:')}:14: state.redis_url`;
    const http = redis('http://user:s3cr3t-token-value@127.0.0.1:6379');
    expect(startupProblems(http)).toEqual([`${at(http)}: redis_url must start with redis:// or rediss:// (TLS)`]);
    const bare = redis('127.0.0.1:6379');
    const scheme = redis('unix:///run/redis.sock');
    expect(startupProblems(scheme)).toEqual([`${at(scheme)}: redis_url must start with redis:// or rediss:// (TLS)`]);
    expect(startupProblems(bare)).toEqual([`${at(bare)}: expected a URL such as redis://host:6379/0 or rediss://host:6380`]);
    const db = redis('redis://:s3cr3t-token-value@127.0.0.1:6379/zero');
    expect(startupProblems(db)).toEqual([`${at(db)}: the database in redis_url must be a number, as in redis://host:6379/0`]);
    const port = redis('rediss://127.0.0.1:99999');
    expect(startupProblems(port)).toEqual([`${at(port)}: expected a URL such as redis://host:6379/0 or rediss://host:6380`]);
    expect(startupProblems(redis('rediss://:pw@cache.internal:6380/2'))).toEqual([]);
  });

  it('refuses ports a socket cannot use', () => {
    const text = edit('${SLUICE_TELEMETRY_LISTEN:-127.0.0.1:9464}', '127.0.0.1:94640');
    expect(startupProblems(text)).toEqual([`p.yaml:${lineOf(text, '94640')}:11: telemetry.listen: the port must be at most 65535`]);
  });

  it('refuses an unknown CEL function at the expression', () => {
    const text = edit("tpot_seconds: 'stream", "bogus: 'no_such_function(model)'\n      tpot_seconds: 'stream");
    const found = startupProblems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^p\\.yaml:${lineOf(text, 'no_such_function')}:14: transforms\\[0\\]\\.compute\\.bogus: .*no_such_function`));
  });

  it('reports every tenant with a problem, not just the first', () => {
    const text = edit('  initech:\n', '  initech:\n    auth: { bearer_token_env: INITECH_TOKEN }\n').replace(
      '    headers: { X-Scope-OrgID: globex }',
      '    auth: { bearer_token_env: GLOBEX_TOKEN }',
    );
    expect(startupProblems(text).map((line) => line.replace(/^p\.yaml:\d+:\d+: /, ''))).toEqual([
      'tenants.globex.auth.bearer_token_env: environment variable GLOBEX_TOKEN is not set',
      'tenants.initech.auth.bearer_token_env: environment variable INITECH_TOKEN is not set',
    ]);
  });
});

describe('config messages never print a value from the environment', () => {
  const SECRET = 's3cr3t-token-value';

  it('shows an environment-derived header name as the reference the file wrote', () => {
    const text = globex('headers: { "${HEADER}": globex }');
    const found = startupProblems(text, { HEADER: `Authorization: Bearer ${SECRET}` });
    expect(found).toEqual([
      `p.yaml:${lineOf(text, '${HEADER}')}:29: tenants.globex.headers["\${HEADER}"]: not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
    ]);
  });

  it('shows an environment-derived tenant id as the reference, also in start-up problems', () => {
    const invalid = edit('  initech:', '  ${TENANT}:');
    expect(startupProblems(invalid, { TENANT: `${SECRET} x` })).toEqual([
      `p.yaml:${lineOf(invalid, '${TENANT}') + 1}:5: tenants["\${TENANT}"]: tenant ids are 1-64 letters, digits, "_", "." or "-"`,
    ]);
    const valid = edit('  initech:\n', '  ${TENANT}:\n    auth: { bearer_token_env: INITECH_TOKEN }\n');
    expect(startupProblems(valid, { TENANT: SECRET })).toEqual([
      `p.yaml:${lineOf(valid, 'INITECH_TOKEN')}:31: tenants["\${TENANT}"].auth.bearer_token_env: environment variable INITECH_TOKEN is not set`,
    ]);
  });

  it('shows an environment-derived schema path as the reference', () => {
    const text = edit('schema: ../schemas/bailian-gateway-log.avsc', 'schema: ${SCHEMA_DIR}/bailian-gateway-log.avsc');
    expect(startupProblems(text, { SCHEMA_DIR: `/etc/${SECRET}` })).toEqual([
      `p.yaml:${lineOf(text, '${SCHEMA_DIR}')}:11: decode.schema: cannot read Avro schema \${SCHEMA_DIR}/bailian-gateway-log.avsc: ENOENT`,
    ]);
  });

  it('never quotes an environment-derived regex', () => {
    const text = globex('metrics: { allow: ["${ALLOW}"] }');
    const found = startupProblems(text, { ALLOW: `(${SECRET}` });
    expect(found).toEqual([`p.yaml:${lineOf(text, '${ALLOW}')}:24: tenants.globex.metrics.allow[0]: invalid regular expression: Unterminated group`]);
  });

  it('never quotes an environment-derived value in any message, whatever the check', () => {
    const text = edit('size: 10s', 'size: ${WINDOW}')
      .replace('topic: sluice.bailian-gateway.dlq', 'topic: "${DLQ}"')
      .replace('  initech:', '  ${TENANT}:')
      .replace('    headers: { X-Scope-OrgID: globex }', '    headers: { "${HEADER}": globex, "${HEADER}x": other }');
    const found = startupProblems(text, { WINDOW: SECRET, DLQ: `${SECRET}!`, TENANT: `${SECRET} x`, HEADER: `${SECRET} ` });
    expect(found.length).toBeGreaterThanOrEqual(4);
    expect(found.join('\n')).not.toContain('s3cr3t');
  });

  it('scrubs a value that messages quote JSON-escaped', () => {
    const text = edit('  allowed_lateness: 0s', '  "${KEY}": 0s');
    const found = startupProblems(text, { KEY: `"${SECRET}"` });
    expect(found).toEqual([`p.yaml:${lineOf(text, '${KEY}')}:3: window: Unrecognized key: "\${KEY}"`]);
  });
});
