/** CPU time of processes from /proc (Linux), for the figures that say what a workload cost and who paid. */
import { readFileSync } from 'node:fs';
import { testRedis } from '@gg/testing';

/** USER_HZ: 100 on every Linux the bench runs on */
export const TICKS = 100;

/** utime + stime of a process in ticks, or undefined (not Linux, gone, or in another pid namespace). */
export function procTicks(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // fields after the command (which may hold spaces): state is field 3, utime 14, stime 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** The pid of the Redis server the tests use, when this machine can read its /proc entry. */
export async function redisPid(): Promise<number | undefined> {
  const redis = testRedis({ maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return procTicks(pid) === undefined ? undefined : pid;
  } finally {
    redis.disconnect();
  }
}
