// Shell completion: `vidra completion bash|zsh` scripts, and `vidra __complete` candidates (commands,
// flags, config groups and options, config keys).
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BIN, makeProject, removeProjects } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;

const lines = (s: string) => s.split('\n').filter(Boolean);

describe.concurrent('vidra __complete lists candidates for the last word', () => {
  const p = makeProject();
  const complete = async (...words: string[]) => {
    const r = await p.run(['__complete', ...words]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    return lines(r.stdout);
  };

  test('groups and keys: run opt → optim.lr= optim.weight_decay= optim=', { timeout: T }, async () => {
    expect(await complete('run', 'opt')).toEqual(['optim.lr=', 'optim.weight_decay=', 'optim=']);
  });

  test('group options: run optim= → optim=adamw optim=sgd; a prefix narrows them', { timeout: T }, async () => {
    expect(await complete('run', 'optim=')).toEqual(['optim=adamw', 'optim=sgd']);
    expect(await complete('run', 'optim=s')).toEqual(['optim=sgd']);
    expect(await complete('run', '+model=')).toEqual(['+model=slowfast']);
    expect(await complete('run', 'vidra/launcher=')).toEqual(['vidra/launcher=local', 'vidra/launcher=local_parallel', 'vidra/launcher=slurm']);
  });

  test('keys come from the config composed from the words typed so far', { timeout: T }, async () => {
    expect(await complete('run', 'optim.')).toEqual(['optim.lr=', 'optim.weight_decay=']);
    expect(await complete('run', 'optim=sgd', 'optim.')).toEqual(['optim.lr=', 'optim.momentum=']);
    expect(await complete('run', '+model=slowfast', 'model')).toEqual(['model.depth=', 'model.name=', 'model=']);
    expect(await complete('run', 'task.')).toEqual(['task._target_=', 'task.steps=']);
  });

  test('every group and top-level key for an empty word (not the vidra prelude)', { timeout: T }, async () => {
    expect(await complete('run', '')).toEqual([
      'model=',
      'name=',
      'optim.lr=',
      'optim.weight_decay=',
      'optim=',
      'seed=',
      'task._target_=',
      'task.steps=',
      'task=',
      'vidra/launcher=',
      'vidra/sweeper=',
    ]);
  });

  test('commands and flags', { timeout: T }, async () => {
    expect(await complete('')).toEqual(['run', 'rerun', 'status', 'resubmit', 'new', 'plugins', 'schema', 'completion', 'report']);
    expect(await complete('re')).toEqual(['rerun', 'resubmit', 'report']);
    expect(await complete('r')).toEqual(['run', 'rerun', 'resubmit', 'report']);
    expect(await complete('run', '--c')).toEqual(['--cfg', '--config-name', '--config-path', '--config-dir']);
    expect(await complete('run', '-c')).toEqual(['-c', '-cn', '-cp', '-cd']);
  });

  test('plugin kinds: new plugin <kind>, plugins [kind]', { timeout: T }, async () => {
    expect(await complete('new', '')).toEqual(['plugin']);
    expect(await complete('new', 'plugin', '')).toEqual(['dataset', 'sampler', 'model', 'loss', 'strategy', 'metric', 'optimizer', 'scheduler', 'launcher', 'sweeper', 'callback', 'task']);
    expect(await complete('new', 'plugin', 's')).toEqual(['sampler', 'strategy', 'scheduler', 'sweeper']);
    expect(await complete('new', 'plugin', 'loss', '')).toEqual([]);
    expect(await complete('plugins', 'l')).toEqual(['loss', 'launcher']);
  });

  test("a flag's values: --cfg → job vidra all, --info → its kinds; glued --cfg= too; rerun takes them", { timeout: T }, async () => {
    expect(await complete('run', '--cfg', '')).toEqual(['job', 'vidra', 'all']);
    expect(await complete('run', '-c', 'j')).toEqual(['job']);
    expect(await complete('run', '--cfg=v')).toEqual(['--cfg=vidra']);
    expect(await complete('run', '-i', 'defaults')).toEqual(['defaults', 'defaults-tree']);
    expect(await complete('rerun', 'runs/x', '--cfg', '')).toEqual(['job', 'vidra', 'all']);
    expect(await complete('rerun', 'runs/x', '--re')).toEqual(['--resolve']);
  });

  test("vidra's own keys once the word starts with vidra.", { timeout: T }, async () => {
    expect(await complete('run', 'vidra.run.')).toEqual(['vidra.run.dir=']);
    expect(await complete('run', 'vidra.sweep.')).toEqual(['vidra.sweep.dir=', 'vidra.sweep.subdir=']);
    expect(await complete('run', 'vidra.launcher.')).toEqual(['vidra.launcher._target_=']);
    expect(await complete('run', '++vidra.job.n')).toEqual(['++vidra.job.name=', '++vidra.job.num=']);
  });

  test('nothing for a word of an unknown group', { timeout: T }, async () => {
    expect(await complete('run', 'nope=')).toEqual([]);
  });
});

describe.concurrent('vidra completion prints the shell scripts', () => {
  const p = makeProject();

  // The scripts call this very CLI by its absolute path: after `npm ci`, `vidra` is not on PATH.
  const cli = `node '${BIN}'`;

  test('bash', { timeout: T }, async () => {
    const r = await p.run(['completion', 'bash']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`# vidra bash completion: eval "$(npx vidra completion bash)"
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
`);
  });

  test('zsh', { timeout: T }, async () => {
    const r = await p.run(['completion', 'zsh']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`#compdef vidra npx
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
`);
  });

  test('another shell: exit 2', { timeout: T }, async () => {
    const r = await p.run(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("Error: completion takes bash or zsh, not 'fish'");
  });

  test('the bash script completes `vidra ...` and `npx vidra ...` with no vidra on PATH', { timeout: T }, async () => {
    // Bash hands the completion function COMP_LINE/COMP_POINT and, split at COMP_WORDBREAKS
    // (which holds '='), COMP_WORDS; it then replaces the text after the last '=' with COMPREPLY.
    const script = (await p.run(['completion', 'bash'])).stdout;
    const cases = [
      'vidra run optim=s',
      'vidra run optim=',
      'vidra run opt',
      'vidra r',
      'vidra run vidra/launcher=local_',
      'vidra run optim=sgd optim.m',
      'vidra run ',
      'npx vidra run optim=s',
      'npx vidra run --cfg ',
      'npx vidra run --cfg=a',
      'npx vidra rerun runs/x -c v',
      'npx vidra run vidra.run.',
      'npx v',
      'npx other ',
    ];
    const driver = `command -v vidra || echo 'vidra: not on PATH'
${script}
for line in ${cases.map((c) => `'${c}'`).join(' ')}; do
  COMP_LINE="$line"; COMP_POINT=\${#line}; COMPREPLY=()
  _vidra_complete
  printf '%s|' "$line" "\${COMPREPLY[@]}"; printf '\\n'
done
complete -p vidra npx
`;
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', driver], {
      cwd: p.dir,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: p.dir },
    }).toString();
    expect(out.split('\n')).toEqual([
      'vidra: not on PATH',
      'vidra run optim=s|sgd|',
      'vidra run optim=|adamw|sgd|',
      'vidra run opt|optim.lr=|optim.weight_decay=|optim=|',
      'vidra r|run|rerun|resubmit|report|',
      'vidra run vidra/launcher=local_|local_parallel|',
      'vidra run optim=sgd optim.m|optim.momentum=|',
      'vidra run |model=|name=|optim.lr=|optim.weight_decay=|optim=|seed=|task._target_=|task.steps=|task=|vidra/launcher=|vidra/sweeper=|',
      'npx vidra run optim=s|sgd|',
      'npx vidra run --cfg |job|vidra|all|',
      'npx vidra run --cfg=a|all|',
      'npx vidra rerun runs/x -c v|vidra|',
      'npx vidra run vidra.run.|vidra.run.dir=|',
      'npx v|vidra|',
      'npx other |',
      'complete -F _vidra_complete vidra',
      'complete -F _vidra_complete npx',
      '',
    ]);
  });
});
