import { makeRepository, composeDetailed } from '../compose/compose.ts';
import { UsageError } from '../config/errors.ts';
import type { ConfigNode } from '../config/node.ts';
import { RUN_FLAGS } from './args.ts';
import { selectableGroups } from './help.ts';
import { cliContext } from './run.ts';

const BASH = `# vidra bash completion: eval "$(vidra completion bash)"
_vidra_complete() {
  # Split the line up to the cursor at blanks only: COMP_WORDS also breaks words at '=' and ':'
  # (COMP_WORDBREAKS), which would hand vidra 'optim' '=' 's' instead of 'optim=s'.
  local line="\${COMP_LINE:0:COMP_POINT}"
  local -a words
  read -ra words <<< "$line"
  [[ "$line" =~ [[:space:]]$ ]] && words+=("")
  local cur="\${words[\${#words[@]}-1]}"
  local IFS=$'\\n'
  COMPREPLY=( $(vidra __complete "\${words[@]:1}" 2>/dev/null) )
  # Bash replaces only the part of the word after its last '=' or ':', so drop what comes before.
  local head="\${cur%"\${cur##*[=:]}"}"
  [[ -n "$head" ]] && COMPREPLY=( "\${COMPREPLY[@]#"$head"}" )
  [[ \${#COMPREPLY[@]} -eq 1 && "\${COMPREPLY[0]}" == *= ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -F _vidra_complete vidra
`;

const ZSH = `#compdef vidra
# vidra zsh completion: eval "$(vidra completion zsh)"
_vidra() {
  local -a candidates
  candidates=("\${(@f)$(vidra __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -S '' -- "\${candidates[@]}"
}
compdef _vidra vidra
`;

export function completionCommand(args: string[]): string {
  if (args[0] === 'bash') return BASH;
  if (args[0] === 'zsh') return ZSH;
  throw new UsageError(`completion takes bash or zsh, not '${args[0] ?? ''}'`);
}

/**
 * Candidates for the last word of `vidra <words>`: commands, flags, config groups and their options,
 * and the keys of the config composed from the words typed so far.
 */
export async function completeWords(words: string[]): Promise<string[]> {
  const cur = words[words.length - 1] ?? '';
  if (words.length <= 1) return ['run', 'rerun', 'completion'].filter((c) => c.startsWith(cur));
  if (words[0] !== 'run') return [];
  if (cur.startsWith('-')) return RUN_FLAGS.flatMap((f) => f.names).filter((n) => n.startsWith(cur));
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
  } catch {
    // An incomplete command line may not compose yet; groups are still useful.
  }
  return [...new Set(out)].filter((c) => c.startsWith(body)).map((c) => `${prefix}${c}`).sort();
}
