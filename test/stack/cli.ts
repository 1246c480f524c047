// Command line for the local real stack:
//
//   node --import tsx test/stack/cli.ts up [--tenants a,b,c] [--no-redis] [--dir DIR]
//   node --import tsx test/stack/cli.ts down [--dir DIR]
//   node --import tsx test/stack/cli.ts status [--dir DIR]
//   node --import tsx test/stack/cli.ts fetch-jars
//   node --import tsx test/stack/cli.ts build-prometheus3
//
// `up` prints the endpoints as JSON on stdout and exits, leaving the
// services running (they are detached); `down` stops them. DIR defaults to
// ${SLUICE_STACK_DIR:-<tmpdir>/sluice-stack}. Progress goes to stderr.

import { parseArgs } from 'node:util';
import { kafkaReady } from './kafka.ts';
import { ensureKafkaJars } from './kafka-jars.ts';
import { ensurePrometheus3 } from './prometheus3.ts';
import { isProcessAlive } from './process.ts';
import { prometheusReady } from './prometheus.ts';
import { redisReady } from './redis.ts';
import { defaultRunDir, startStack, stopStack } from './stack.ts';
import { readState, recordedServices } from './state.ts';
import { TEST_TENANTS } from './index.ts';

const USAGE = `usage: cli.ts up [--tenants a,b,c] [--no-redis] [--dir DIR] | down [--dir DIR] | status [--dir DIR] | fetch-jars | build-prometheus3`;

const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenants: { type: 'string' },
      'no-redis': { type: 'boolean', default: false },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || rest.length > 0) {
    (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const runDir = values.dir ?? defaultRunDir();

  switch (command) {
    case 'up': {
      const tenants = values.tenants
        ? values.tenants.split(',').map((t) => t.trim()).filter(Boolean)
        : [...TEST_TENANTS];
      const stack = await startStack({ runDir, tenants, redis: !values['no-redis'], log: err });
      // functions (stop/start) drop out of the JSON
      process.stdout.write(`${JSON.stringify(stack, null, 2)}\n`);
      return 0;
    }
    case 'down':
      await stopStack(runDir);
      err(`stack in ${runDir} stopped`);
      return 0;
    case 'status':
      return status(runDir);
    case 'fetch-jars':
      process.stdout.write(`${await ensureKafkaJars(err)}\n`);
      return 0;
    case 'build-prometheus3':
      process.stdout.write(`${ensurePrometheus3(err)}\n`);
      return 0;
    default:
      err(USAGE);
      return 2;
  }
}

/** Per service: pid alive and ready check. Exit 0 only if everything is up. */
async function status(runDir: string): Promise<number> {
  const state = readState(runDir);
  if (!state) {
    err(`no stack recorded in ${runDir}`);
    return 1;
  }
  const rows = await Promise.all(
    recordedServices(state).map(async ({ name, record }) => {
      const alive = record.pid !== undefined && isProcessAlive(record.pid, record.match);
      let ready = false;
      if (alive) {
        if (name === 'kafka') ready = await kafkaReady([`127.0.0.1:${record.port}`]);
        else if (name === 'redis') ready = await redisReady(record.port);
        else ready = await prometheusReady(`http://127.0.0.1:${record.port}`);
      }
      return { name, pid: record.pid, port: record.port, alive, ready, logFile: record.logFile };
    }),
  );
  process.stdout.write(`${JSON.stringify({ runDir, createdAt: state.createdAt, services: rows }, null, 2)}\n`);
  return rows.every((r) => r.ready) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    err(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
