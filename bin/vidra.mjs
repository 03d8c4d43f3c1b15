#!/usr/bin/env node
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ can cache compiled code between runs; on Node 20 this is a no-op.
module.enableCompileCache?.();
// `npm ci` runs no install scripts here (.npmrc), so a fresh clone's first command builds the bundle.
if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  process.stderr.write('vidra: building dist/ (first run after install)\n');
  await import('../scripts/build.mjs');
}
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
