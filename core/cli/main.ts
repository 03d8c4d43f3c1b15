import { VidraError } from '../config/errors.ts';
import { packageVersion } from '../paths.ts';
import { completionCommand, completeWords } from './completion.ts';
import { reportCommand } from './report.ts';
import { rerunCommand } from './rerun.ts';
import { runCommand } from './run.ts';

const USAGE = `usage: vidra <command> [options] [overrides...]

commands:
  run [flags] [overrides...]              compose the config and run the task (vidra run --help for flags and config groups)
  rerun <run dir> [flags] [overrides...]  run again from a run directory's saved config (vidra rerun --help)
  status <sweep dir>                      progress and table of a slurm sweep (after --detach)
  resubmit <sweep dir> [--failed]         submit a slurm sweep's jobs that did not complete again
  new plugin <kind> <name> [--package]    scaffold a plugin: module, config, test (--package: a separate npm package)
  plugins [kind]                          list the registered plugins with their config keys (types, defaults, descriptions)
  schema --out <dir> [--vscode]           write the JSON Schemas of the config groups (for editors' YAML language server)
  completion bash|zsh                     print a shell completion script
  report <run or sweep dir>... [flags]    write an HTML, Markdown or CSV report of runs and sweeps (vidra report --help)

exit codes: 0 ok, 1 a job failed, 2 usage or config error`;

// Plugins load only when a command needs them: `vidra run --cfg job` never imports tsyringe or ajv.
const builtins = async () => (await import('../../plugins/index.ts')).builtinPlugins;

/** The CLI: returns the exit code. Errors the user caused print one clear message, without a stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, builtins);
      case 'rerun':
        return await rerunCommand(rest, builtins);
      case 'report':
        return await reportCommand(rest);
      case 'status':
        return await (await import('./slurm.ts')).statusCommand(rest);
      case 'resubmit':
        return await (await import('./slurm.ts')).resubmitCommand(rest);
      case '__slurm_task': {
        const { runSlurmTask } = await import('../slurm/task.ts');
        return await runSlurmTask(rest, await builtins());
      }
      case 'new':
        return await (await import('./new.ts')).newCommand(rest, builtins);
      case 'plugins':
        return await (await import('./plugins.ts')).pluginsCommand(rest, builtins);
      case 'schema':
        return await (await import('./schema.ts')).schemaCommand(rest, builtins);
      case 'completion':
        process.stdout.write(completionCommand(rest));
        return 0;
      case '__complete':
        process.stdout.write(`${(await completeWords(rest)).join('\n')}\n`);
        return 0;
      case '__worker': {
        const { runWorker } = await import('../launch/worker.ts');
        return await runWorker(await builtins());
      }
      case '--version':
      case '-V':
        process.stdout.write(`vidra ${packageVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        // No command is a usage error: the usage goes to stderr then, as every exit-2 message does.
        (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`vidra: unknown command '${command}'\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof VidraError) {
    process.stderr.write(`Error: ${err.message}\n`);
    if (process.env.VIDRA_FULL_ERROR === '1') process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n');
    return 2;
  }
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
