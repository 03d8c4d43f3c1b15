// A private single-node Slurm for the tests and the bench: installs the Debian packages when missing,
// starts its own munged, slurmctld and slurmd in a temporary directory, and stops them by pid file.
// Memory is confined by cgroups, as on real clusters, where the cgroup v1 hierarchies are writable here;
// otherwise by slurmstepd's sampling (OverMemoryKill). Plain JS, so that bench/slurm.mjs can use it too.
// VIDRA_TEST_SLURM_KEEP_LOGS=<dir>: each cluster's daemon logs are copied to <dir>/<node> when it stops.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];
const BINARIES = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch'];

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
  return r.stdout;
}

function install() {
  if (BINARIES.every((b) => existsSync(b))) return;
  if (process.getuid?.() !== 0) throw new Error(`Slurm is not installed (${PACKAGES.join(' ')}) and installing it needs root`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Other test files install their packages at the same time: wait for dpkg's lock rather than fail on it.
  const get = (args) => sh('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { env, timeout: 660_000 });
  try {
    get(['install', '-y', '--no-install-recommends', ...PACKAGES]);
  } catch {
    get(['update']);
    get(['install', '-y', '--no-install-recommends', ...PACKAGES]);
  }
}

/** A daemon's pid from its pid file, or null when it is not running (a zombie counts as dead: no init reaps it here). */
function livePid(file) {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return pid && alive(pid) ? pid : null;
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes (not zombies) whose environment names this cluster's slurm.conf. */
function clusterProcesses(conf) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`SLURM_CONF=${conf}`) && alive(pid)) out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
// proctrack/cgroup tracks a job's processes in freezer, task/cgroup confines its memory in memory; Slurm
// (cgroup/v1) also makes its directories in cpuset and cpuacct when it can, so those are cleaned up too.
const CGROUP_NEEDED = ['memory', 'freezer'];
const CGROUP_CLEANED = ['memory', 'freezer', 'cpuset', 'cpuacct', 'devices'];

/** Whether a cgroup v1 hierarchy is mounted at `/sys/fs/cgroup/<name>` and this process may make a cgroup in it. */
function writableV1(name) {
  const probe = join(CGROUP_ROOT, name, `vidra-probe-${process.pid}`);
  try {
    if (!existsSync(join(CGROUP_ROOT, name, 'cgroup.procs')) || existsSync(join(CGROUP_ROOT, name, 'cgroup.subtree_control'))) return false;
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * How the cluster would enforce memory limits here: `cgroup` (task/cgroup over cgroup v1: Slurm ends a task
 * over its limit OUT_OF_MEMORY) when the memory and freezer hierarchies are writable and
 * `VIDRA_TEST_SLURM_CGROUPS` is not `off`; else `overmemorykill` (slurmstepd samples and kills: FAILED).
 */
export function memoryMode(env = process.env) {
  if (env.VIDRA_TEST_SLURM_CGROUPS === 'off') return 'overmemorykill';
  return CGROUP_NEEDED.every(writableV1) ? 'cgroup' : 'overmemorykill';
}

/** Removes a cgroup tree bottom-up (a cgroup directory is removed with rmdir, never its files); best effort. */
function removeCgroup(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // still holds a process, or gone
  }
}

/** The last `n` lines of a daemon's log in the cluster's directory (none when it wrote no log). */
function logTail(dir, name, n) {
  const log = join(dir, 'log', `${name}.log`);
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-n) : [];
}

let clusters = 0;

const freePort = () => 20000 + Math.floor(Math.random() * 30000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a cluster; resolves to `{ dir, env, node, memory, stop, report }` (env: SLURM_CONF for the clients; node:
 * its node's name; memory: `cgroup` or `overmemorykill`, see memoryMode; report(): the node, the queue and the
 * daemons' last log lines, for a failed test's message), or throws with the reason it
 * cannot start (not root, no packages, a daemon that dies).
 */
export async function startCluster({ cpus = Math.max(16, availableParallelism() * 4) } = {}) {
  install();
  const memoryLimits = memoryMode();
  // A name of its own: Debian's slurmd keeps its cgroups in slurm_<node name> (multiple-slurmd build), and
  // two clusters at once (test files run in parallel) would share job ids, and so job cgroups, under one.
  // "n" keeps pid and count apart (pid 12 count 34 vs pid 123 count 4).
  const node = `vidra${process.pid}n${clusters++}`;
  const cgroups = memoryLimits === 'cgroup' ? CGROUP_CLEANED.map((h) => join(CGROUP_ROOT, h, `slurm_${node}`)) : [];
  const dir = mkdtempSync(join(tmpdir(), 'vidra-slurm-'));
  chmodSync(dir, 0o755);
  for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, d), { mode: 0o755 });
  chmodSync(join(dir, 'munge'), 0o755);
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge', 'munge.socket');
  const pids = { munged: join(dir, 'munged.pid'), slurmctld: join(dir, 'slurmctld.pid'), slurmd: join(dir, 'slurmd.pid') };
  const conf = join(dir, 'slurm.conf');
  const stop = () => {
    // Jobs first (a task left running would outlive the daemons), then the daemons, then whatever is left
    // of this cluster: slurmstepd and task processes carry its SLURM_CONF in their environment.
    if (livePid(pids.slurmctld)) spawnSync('scancel', ['--user', 'root', '--full'], { env: { ...process.env, SLURM_CONF: conf }, timeout: 5000 });
    for (const file of [pids.slurmd, pids.slurmctld, pids.munged]) {
      const pid = livePid(file);
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone meanwhile
        }
      }
    }
    const end = Date.now() + 5000;
    while (Date.now() < end && Object.values(pids).some((f) => livePid(f))) spawnSync('sleep', ['0.1']);
    for (const file of Object.values(pids)) {
      const pid = livePid(file);
      if (pid) process.kill(pid, 'SIGKILL');
    }
    for (const pid of clusterProcesses(conf)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    // Slurm leaves its cgroups (slurm_<node>/system, uid_0) behind at stop; one that still holds a task
    // being killed (or its zombie, until reaped) cannot be removed yet.
    const gone = Date.now() + 5000;
    for (;;) {
      for (const cg of cgroups) removeCgroup(cg);
      if (Date.now() > gone || !cgroups.some((cg) => existsSync(cg))) break;
      spawnSync('sleep', ['0.1']);
    }
    // For a post-mortem of a run that went wrong: the daemons' logs outlive the cluster there.
    if (process.env.VIDRA_TEST_SLURM_KEEP_LOGS) cpSync(join(dir, 'log'), join(process.env.VIDRA_TEST_SLURM_KEEP_LOGS, node), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh('/usr/sbin/munged', ['--force', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${pids.munged}`, `--log-file=${join(dir, 'log', 'munged.log')}`, `--seed-file=${join(dir, 'munge.seed')}`]);
    const memory = 64_000;
    for (const cg of cgroups) removeCgroup(cg);
    if (memoryLimits === 'cgroup') {
      // Slurm 22.05 reads cgroup.conf beside slurm.conf. RAM and swap both capped at the job's memory (no
      // swap allowed): the kernel's OOM killer ends a task over it, and Slurm reports OUT_OF_MEMORY.
      const swap = existsSync(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes'));
      writeFileSync(
        join(dir, 'cgroup.conf'),
        ['CgroupPlugin=cgroup/v1', `CgroupMountpoint=${CGROUP_ROOT}`, 'ConstrainRAMSpace=yes', `ConstrainSwapSpace=${swap ? 'yes' : 'no'}`, 'AllowedSwapSpace=0', 'ConstrainCores=no', 'ConstrainDevices=no', ''].join('\n'),
      );
    }
    const enforcement =
      memoryLimits === 'cgroup'
        ? ['ProctrackType=proctrack/cgroup', 'TaskPlugin=task/cgroup', 'JobAcctGatherType=jobacct_gather/linux', 'JobAcctGatherFrequency=1']
        : [
            'ProctrackType=proctrack/linuxproc',
            'TaskPlugin=task/none',
            // Memory limits enforced without cgroups: slurmstepd samples the tasks' memory every second and kills
            // a step over its limit (OverMemoryKill).
            'JobAcctGatherType=jobacct_gather/linux',
            'JobAcctGatherFrequency=1',
            'JobAcctGatherParams=OverMemoryKill',
          ];
    writeFileSync(
      conf,
      [
        'ClusterName=vidra',
        'SlurmctldHost=localhost(127.0.0.1)',
        'SlurmUser=root',
        'SlurmdUser=root',
        `SlurmctldPort=${freePort()}`,
        `SlurmdPort=${freePort()}`,
        'AuthType=auth/munge',
        // cred_expire: a requeued task waits this long (default 120 s) before it may start again.
        `AuthInfo=socket=${socket},cred_expire=10`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${pids.slurmctld}`,
        `SlurmdPidFile=${pids.slurmd}`,
        `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
        ...enforcement,
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/filetxt',
        `JobCompLoc=${join(dir, 'log', 'jobcomp.txt')}`,
        'SchedulerType=sched/backfill',
        'SchedulerParameters=batch_sched_delay=0,sched_interval=1',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU_Memory',
        'SlurmdParameters=config_overrides',
        // Enforced (above): room for a Node task with ONNX Runtime; 16 such tasks still fit RealMemory.
        'DefMemPerCPU=1000',
        'MaxArraySize=10001',
        'KillWait=5',
        'OverTimeLimit=0',
        'MinJobAge=600',
        'ReturnToService=2',
        'InactiveLimit=0',
        `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory} State=UNKNOWN`,
        'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const env = { SLURM_CONF: conf };
    const daemonEnv = { ...process.env, ...env };
    // A daemon that exits at start says why in its log file, not on stderr.
    const daemon = (name, args) => {
      try {
        sh(`/usr/sbin/${name}`, args, { env: daemonEnv });
      } catch (err) {
        throw new Error(`${err.message.trim()} (${name}.log: ${logTail(dir, name, 3).join(' | ') || 'no log'})`);
      }
    };
    daemon('slurmctld', ['-f', conf, '-i']);
    daemon('slurmd', ['-f', conf, '-N', node]);
    const end = Date.now() + 60_000;
    for (;;) {
      for (const [name, file] of Object.entries(pids)) {
        if (!livePid(file) && Date.now() > end - 55_000) {
          throw new Error(`${name} is not running: ${logTail(dir, name, 3).join(' | ') || 'no log'}`);
        }
      }
      const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { encoding: 'utf8', env: daemonEnv });
      if (r.status === 0 && /^(idle|mixed|allocated)/m.test(r.stdout)) break;
      if (Date.now() > end) throw new Error(`the Slurm node did not become usable within 60 s (sinfo: ${(r.stdout + r.stderr).trim()})`);
      await sleep(250);
    }
    /** What a failed test should show: the node and queue as Slurm sees them, and the daemons' last log lines. */
    const report = () => {
      const said = (cmd, args) => {
        const r = spawnSync(cmd, args, { encoding: 'utf8', env: daemonEnv, timeout: 10_000 });
        return `$ ${cmd} ${args.join(' ')}\n${(r.stdout ?? '') + (r.stderr ?? '')}`.trim();
      };
      const tail = (name) => `${name}.log (last 40 lines):\n${logTail(dir, name, 40).join('\n') || '(none)'}`;
      // The kernel's last lines: its OOM kills (memory limits are the kernel's with cgroups).
      const kernel = `dmesg (last 15 lines):\n${(spawnSync('dmesg', [], { encoding: 'utf8' }).stdout ?? '').trim().split('\n').slice(-15).join('\n')}`;
      return [said('sinfo', ['-N', '-o', '%N %T %E']), said('squeue', ['-o', '%i %T %r %M %N']), tail('slurmctld'), tail('slurmd'), kernel].join('\n\n');
    };
    return { dir, env, node, memory: memoryLimits, stop, report };
  } catch (err) {
    stop();
    throw err;
  }
}
