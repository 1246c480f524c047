#!/usr/bin/env -S node --max-semi-space-size=8
// The `sluice` command: registers the TypeScript loader, then runs the CLI.
//
// Node flags of the shipped command, on the line above (`env -S` splits them; docker-compose runs
// this file by its shebang, and pipeline-bench reads them from here: one place). Why: V8's
// young generation is two semi-spaces of 16 MiB each by default; 8 MiB each cut the gateway
// pipeline's peak RSS by ~16 MiB (issue 12: peak RSS within 1.3x of a bare consume). The
// figures, CPU included, are in test/bench/pipeline-bench.ts's header. `node src/cli/bin.js`
// (the tests) runs without them.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
