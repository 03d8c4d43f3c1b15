// Debian packages a test needs (chromium, hdf5-tools): installed with apt-get when missing, as CI runs as
// root; where they cannot be, the reason, for the test to skip visibly with.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Installs Debian's `pkg` unless `binary` is there; returns why it is still missing, or null. */
export function ensureAptBinary(binary: string, pkg: string): string | null {
  if (existsSync(binary)) return null;
  if (!existsSync('/usr/bin/apt-get')) return `no ${binary}, and no apt-get to install Debian's ${pkg} with`;
  if (process.getuid?.() !== 0) return `no ${binary}, and installing it with apt-get needs root`;
  const apt = (args: string[]) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const update = apt(['update']);
  const install = update.status === 0 ? apt(['install', '-y', '--no-install-recommends', pkg]) : update;
  if (install.status !== 0 || !existsSync(binary)) return `apt-get could not install ${pkg}: ${(install.stderr || install.stdout || '').trim().split('\n').at(-1)}`;
  return null;
}
