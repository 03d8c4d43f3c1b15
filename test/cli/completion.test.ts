// Shell completion: `vidra completion bash|zsh` scripts, and `vidra __complete` candidates (commands,
// flags, config groups and options, config keys).
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
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
    expect(await complete('run', 'vidra/launcher=')).toEqual(['vidra/launcher=local', 'vidra/launcher=local_parallel']);
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
    expect(await complete('')).toEqual(['run', 'rerun', 'completion']);
    expect(await complete('r')).toEqual(['run', 'rerun']);
    expect(await complete('run', '--c')).toEqual(['--cfg', '--config-name', '--config-path', '--config-dir']);
    expect(await complete('run', '-c')).toEqual(['-c', '-cn', '-cp', '-cd']);
  });

  test('nothing for a word of an unknown group', { timeout: T }, async () => {
    expect(await complete('run', 'nope=')).toEqual([]);
  });
});

describe.concurrent('vidra completion prints the shell scripts', () => {
  const p = makeProject();

  test('bash', { timeout: T }, async () => {
    const r = await p.run(['completion', 'bash']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`# vidra bash completion: eval "$(vidra completion bash)"
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
`);
  });

  test('zsh', { timeout: T }, async () => {
    const r = await p.run(['completion', 'zsh']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`#compdef vidra
# vidra zsh completion: eval "$(vidra completion zsh)"
_vidra() {
  local -a candidates
  candidates=("\${(@f)$(vidra __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -S '' -- "\${candidates[@]}"
}
compdef _vidra vidra
`);
  });

  test('another shell: exit 2', { timeout: T }, async () => {
    const r = await p.run(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("Error: completion takes bash or zsh, not 'fish'");
  });

  test('the bash script completes key=value words in bash', { timeout: T }, async () => {
    // Bash hands the completion function COMP_LINE/COMP_POINT and, split at COMP_WORDBREAKS
    // (which holds '='), COMP_WORDS; it then replaces the text after the last '=' with COMPREPLY.
    const shim = p.path('bin-shim');
    execFileSync('mkdir', ['-p', shim]);
    writeFileSync(`${shim}/vidra`, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(`${shim}/vidra`, 0o755);
    const script = (await p.run(['completion', 'bash'])).stdout;
    const cases = ['vidra run optim=s', 'vidra run optim=', 'vidra run opt', 'vidra r', 'vidra run vidra/launcher=local_', 'vidra run optim=sgd optim.m', 'vidra run '];
    const driver = `${script}
for line in ${cases.map((c) => `'${c}'`).join(' ')}; do
  COMP_LINE="$line"; COMP_POINT=\${#line}; COMPREPLY=()
  _vidra_complete
  printf '%s|' "$line" "\${COMPREPLY[@]}"; printf '\\n'
done
complete -p vidra
`;
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', driver], {
      cwd: p.dir,
      env: { PATH: `${shim}:${process.env.PATH}`, HOME: p.dir },
    }).toString();
    expect(out.split('\n')).toEqual([
      'vidra run optim=s|sgd|',
      'vidra run optim=|adamw|sgd|',
      'vidra run opt|optim.lr=|optim.weight_decay=|optim=|',
      'vidra r|run|rerun|',
      'vidra run vidra/launcher=local_|local_parallel|',
      'vidra run optim=sgd optim.m|optim.momentum=|',
      'vidra run |model=|name=|optim.lr=|optim.weight_decay=|optim=|seed=|task._target_=|task.steps=|task=|vidra/launcher=|vidra/sweeper=|',
      'complete -F _vidra_complete vidra',
      '',
    ]);
  });
});
