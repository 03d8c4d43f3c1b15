import { UsageError } from '../config/errors.ts';

export type CfgKind = 'job' | 'vidra' | 'all';
export const INFO_KINDS = ['all', 'config', 'defaults', 'defaults-tree', 'plugins', 'searchpath'] as const;
export type InfoKind = (typeof INFO_KINDS)[number];

export interface RunArgs {
  multirun: boolean;
  detach: boolean;
  cfg: CfgKind | null;
  resolve: boolean;
  package: string | null;
  info: InfoKind | null;
  configName: string | null;
  configPath: string | null;
  configDirs: string[];
  help: boolean;
  quiet: boolean;
  verbose: boolean;
  overrides: string[];
}

/** Flags of `vidra run` (Hydra's, with `vidra` for `hydra`); the rest of the arguments are overrides. */
export const RUN_FLAGS: Array<{ names: string[]; value?: string; choices?: readonly string[]; help: string }> = [
  { names: ['-m', '--multirun'], help: 'run a sweep: one job per combination of the sweep overrides' },
  { names: ['--detach'], help: 'with --multirun and vidra/launcher=slurm: submit the sweep and return (follow it with vidra status)' },
  { names: ['-c', '--cfg'], value: 'job|vidra|all', choices: ['job', 'vidra', 'all'], help: 'print the composed config instead of running' },
  { names: ['--resolve'], help: 'with --cfg: resolve interpolations before printing' },
  { names: ['-p', '--package'], value: 'PKG', help: 'with --cfg: print only the config node at this dot path' },
  { names: ['-i', '--info'], value: INFO_KINDS.join('|'), choices: INFO_KINDS, help: 'print information (default: all) instead of running' },
  { names: ['-cn', '--config-name'], value: 'NAME', help: 'the primary config (default: config, or the project settings)' },
  { names: ['-cp', '--config-path'], value: 'DIR', help: 'replace the primary config directory (absolute or relative to the cwd)' },
  { names: ['-cd', '--config-dir'], value: 'DIR', help: 'add a directory to the config search path' },
  { names: ['-q', '--quiet'], help: 'print only errors and the final result line (no progress)' },
  { names: ['-v', '--verbose'], help: 'print debug lines too' },
  { names: ['-h', '--help'], help: 'show this help, with the config groups and plugins' },
];

const flagOf = (arg: string) => RUN_FLAGS.find((f) => f.names.includes(arg));

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const out: RunArgs = {
    multirun: false,
    detach: false,
    cfg: null,
    resolve: false,
    package: null,
    info: null,
    configName: null,
    configPath: null,
    configDirs: [],
    help: false,
    quiet: false,
    verbose: false,
    overrides: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-') || raw === '-') {
      out.overrides.push(raw);
      continue;
    }
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const arg = eq > 0 ? raw.slice(0, eq) : raw;
    const flag = flagOf(arg);
    if (!flag) {
      const known = RUN_FLAGS.flatMap((f) => f.names).join(' ');
      throw new UsageError(`unknown flag '${arg}' (argument ${i + 1}). Flags: ${known}. Overrides are key=value, +key=value, ++key=value or ~key`);
    }
    const takeValue = (optional = false): string | null => {
      if (eq > 0) return raw.slice(eq + 1);
      const next = argv[i + 1];
      if (optional && (next === undefined || !(INFO_KINDS as readonly string[]).includes(next))) return null;
      if (next === undefined) throw new UsageError(`${arg} needs a value: ${flag.value}`);
      i++;
      return next;
    };
    switch (flag.names[1] ?? flag.names[0]) {
      case '--multirun':
        out.multirun = true;
        break;
      case '--detach':
        out.detach = true;
        break;
      case '--cfg': {
        const v = takeValue();
        if (v !== 'job' && v !== 'vidra' && v !== 'all') throw new UsageError(`--cfg takes job, vidra or all, not '${v}'`);
        out.cfg = v;
        break;
      }
      case '--resolve':
        out.resolve = true;
        break;
      case '--package':
        out.package = takeValue();
        break;
      case '--info': {
        const v = takeValue(true) ?? 'all';
        if (!(INFO_KINDS as readonly string[]).includes(v)) throw new UsageError(`--info takes ${INFO_KINDS.join(', ')}, not '${v}'`);
        out.info = v as InfoKind;
        break;
      }
      case '--config-name':
        out.configName = takeValue();
        break;
      case '--config-path':
        out.configPath = takeValue();
        break;
      case '--config-dir':
        out.configDirs.push(takeValue()!);
        break;
      case '--quiet':
        out.quiet = true;
        break;
      case '--verbose':
        out.verbose = true;
        break;
      case '--help':
        out.help = true;
        break;
    }
  }
  const modes = [out.multirun && '--multirun', out.cfg && '--cfg', out.info && '--info'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`only one of --multirun, --cfg and --info at a time (got ${modes.join(' and ')})`);
  if (out.quiet && out.verbose) throw new UsageError('--quiet and --verbose contradict each other: give one');
  if (out.detach && !out.multirun) throw new UsageError('--detach goes with --multirun (and vidra/launcher=slurm)');
  if ((out.resolve || out.package) && !out.cfg) throw new UsageError('--resolve and --package go with --cfg');
  return out;
}
