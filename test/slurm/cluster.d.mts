// Types of cluster.mjs (plain JS, so that bench/slurm.mjs can run it) for the test files that import it.

export type MemoryMode = 'cgroup' | 'overmemorykill';

export interface Cluster {
  /** The cluster's temporary directory: slurm.conf, cgroup.conf, log/, state/. */
  dir: string;
  /** SLURM_CONF for the Slurm clients. */
  env: Record<string, string>;
  /** The only node's name (vidra<pid>n<count>). */
  node: string;
  memory: MemoryMode;
  stop(): void;
  /** The node, the queue, the daemons' and the kernel's last log lines: for a failed test's message. */
  report(): string;
}

export function memoryMode(env?: Record<string, string | undefined>): MemoryMode;
export function startCluster(options?: { cpus?: number }): Promise<Cluster>;
