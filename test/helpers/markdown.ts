// The fenced code blocks of a Markdown guide: files (```lang file=path), what a file holds after a command
// (```lang output=name), and console sessions (```console: `$ command` lines, each followed by the output lines
// it shows).

export interface GuideFile {
  path: string;
  content: string;
}

export interface GuideCommand {
  command: string;
  /** The output lines shown under the command. */
  output: string[];
}

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;

function blocksNamed(markdown: string, key: 'file' | 'output'): GuideFile[] {
  const out: GuideFile[] = [];
  for (const [, info, body] of markdown.matchAll(FENCE)) {
    const path = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(info!)?.[1];
    if (path) out.push({ path, content: body! });
  }
  return out;
}

export const guideFiles = (markdown: string): GuideFile[] => blocksNamed(markdown, 'file');

export const guideOutputs = (markdown: string): GuideFile[] => blocksNamed(markdown, 'output');

export function guideCommands(markdown: string): GuideCommand[] {
  const out: GuideCommand[] = [];
  for (const [, info, body] of markdown.matchAll(FENCE)) {
    if (info!.trim() !== 'console') continue;
    for (const line of body!.split('\n')) {
      if (line.startsWith('$ ')) out.push({ command: line.slice(2), output: [] });
      else if (line.trim() && out.length) out.at(-1)!.output.push(line);
    }
  }
  return out;
}
