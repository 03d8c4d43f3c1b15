import { join } from 'node:path';
import { makeRepository, composeDetailed } from '../compose/compose.ts';
import { UsageError } from '../config/errors.ts';
import type { ConfigNode } from '../config/node.ts';
import { packageRoot } from '../paths.ts';
import { PLUGIN_KINDS } from '../plugins/kinds.ts';
import { RUN_FLAGS } from './args.ts';
import { selectableGroups } from './help.ts';
import { cliContext } from './run.ts';

// The scripts call the CLI that printed them, by its absolute path: `vidra` is not on PATH after the
// README's install (`npx vidra` runs it), and `npx` itself is slow. They complete `npx vidra ...` too.
const bash = (cli: string) => `# vidra bash completion: eval "$(npx vidra completion bash)"
_vidra_complete() {
  # Split the line up to the cursor at blanks only: COMP_WORDS also breaks words at '=' and ':'
  # (COMP_WORDBREAKS), which would hand vidra 'optim' '=' 's' instead of 'optim=s'.
  local line="\${COMP_LINE:0:COMP_POINT}"
  local -a words
  read -ra words <<< "$line"
  [[ "$line" =~ [[:space:]]$ ]] && words+=("")
  local cur="\${words[\${#words[@]}-1]}" first=1
  if [[ "\${words[0]}" == npx ]]; then
    # npx <package>: offer vidra; any other package keeps the default (file name) completion.
    if [[ \${#words[@]} -eq 2 ]]; then COMPREPLY=( $(compgen -W vidra -- "$cur") ); return 0; fi
    [[ "\${words[1]}" == vidra ]] || { compopt -o default 2>/dev/null; COMPREPLY=(); return 0; }
    first=2
  fi
  local IFS=$'\\n'
  COMPREPLY=( $(${cli} __complete "\${words[@]:first}" 2>/dev/null) )
  # Bash replaces only the part of the word after its last '=' or ':', so drop what comes before.
  local head="\${cur%"\${cur##*[=:]}"}"
  [[ -n "$head" ]] && COMPREPLY=( "\${COMPREPLY[@]#"$head"}" )
  [[ \${#COMPREPLY[@]} -eq 1 && "\${COMPREPLY[0]}" == *= ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -F _vidra_complete vidra npx
`;

const zsh = (cli: string) => `#compdef vidra npx
# vidra zsh completion: eval "$(npx vidra completion zsh)"
_vidra() {
  local -a candidates args
  args=("\${(@)words[2,CURRENT]}")
  if [[ $words[1] == npx ]]; then
    (( CURRENT == 2 )) && { compadd vidra; return; }
    [[ $words[2] == vidra ]] || { _default; return; }
    args=("\${(@)words[3,CURRENT]}")
  fi
  candidates=("\${(@f)$(${cli} __complete "\${args[@]}" 2>/dev/null)}")
  compadd -S '' -- "\${candidates[@]}"
}
compdef _vidra vidra npx
`;

/** `node '<this package>/bin/vidra.mjs'`, quoted for the shell. */
function cliCommand(): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `node ${quote(join(packageRoot(), 'bin', 'vidra.mjs'))}`;
}

/** The vidra commands, in the order `vidra --help` lists them. */
const COMMANDS = ['run', 'rerun', 'status', 'resubmit', 'new', 'plugins', 'schema', 'completion', 'report'];

export function completionCommand(args: string[]): string {
  if (args[0] === 'bash') return bash(cliCommand());
  if (args[0] === 'zsh') return zsh(cliCommand());
  throw new UsageError(`completion takes bash or zsh, not '${args[0] ?? ''}'`);
}

/**
 * Candidates for the last word of `vidra <words>`: commands, flags, config groups and their options,
 * and the keys of the config composed from the words typed so far.
 */
export async function completeWords(words: string[]): Promise<string[]> {
  const cur = words[words.length - 1] ?? '';
  if (words.length <= 1) return COMMANDS.filter((c) => c.startsWith(cur));
  // `vidra new plugin <kind>` and `vidra plugins [kind]`.
  if (words[0] === 'new' && words.length === 2) return ['plugin'].filter((c) => c.startsWith(cur));
  const kindWord = (words[0] === 'new' && words[1] === 'plugin' && words.length === 3) || (words[0] === 'plugins' && words.length === 2);
  if (kindWord) return PLUGIN_KINDS.filter((k) => k.startsWith(cur));
  if (words[0] !== 'run' && words[0] !== 'rerun') return [];
  // A flag's fixed values, after the flag (`--cfg j`) or glued to it (`--cfg=j`).
  const choicesOf = (flag: string) => RUN_FLAGS.find((f) => f.names.includes(flag))?.choices;
  const glued = /^(--[a-z-]+)=(.*)$/.exec(cur);
  if (glued) return (choicesOf(glued[1]!) ?? []).filter((c) => c.startsWith(glued[2]!)).map((c) => `${glued[1]}=${c}`);
  if (cur.startsWith('-')) return RUN_FLAGS.flatMap((f) => f.names).filter((n) => n.startsWith(cur));
  const choices = choicesOf(words[words.length - 2]!);
  if (choices) return choices.filter((c) => c.startsWith(cur));
  if (words[0] === 'rerun') return [];
  const ctx = await cliContext({ configPath: null, configName: null, configDirs: [] });
  const repo = makeRepository(ctx);
  const prefix = /^[+~]*/.exec(cur)![0];
  const body = cur.slice(prefix.length);
  const eq = body.indexOf('=');
  if (eq >= 0) {
    const key = body.slice(0, eq).split('@')[0]!;
    const value = body.slice(eq + 1);
    if (!repo.groupExists(key)) return [];
    return repo.options(key).filter((o) => o.startsWith(value)).map((o) => `${prefix}${body.slice(0, eq)}=${o}`);
  }
  const out = selectableGroups(repo).map((g) => `${g}=`);
  try {
    const typed = words.slice(1, -1).filter((w) => !w.startsWith('-') && !w.includes(','));
    const comp = composeDetailed({ configDir: ctx.configDir, configName: ctx.configName, searchPath: ctx.searchPath, overrides: typed }, repo);
    const walk = (node: ConfigNode, path: string) => {
      if (node.kind !== 'dict') return;
      for (const [k, v] of node.entries) {
        const p = path ? `${path}.${k}` : k;
        out.push(`${p}=`);
        walk(v, p);
      }
    };
    walk(comp.config.root, '');
    // Vidra's own settings only once the word asks for them: they would crowd out the task's keys.
    if (body.startsWith('vidra.') && comp.config.vidra) walk(comp.config.vidra, 'vidra');
  } catch {
    // An incomplete command line may not compose yet; groups are still useful.
  }
  return [...new Set(out)].filter((c) => c.startsWith(body)).map((c) => `${prefix}${c}`).sort();
}
