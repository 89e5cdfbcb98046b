// A disk that can lose power, for Redis's data folder: powerlossfs (test/redis/powerloss/main.go),
// a FUSE filesystem built from go-fuse (Go module proxy) that keeps file data in memory and, on
// "power off", drops every byte that was never fsynced. A kill -9 cannot show what fsync buys (the
// kernel keeps the dead process's writes); this can. `npm run engines` builds it (scripts/engines/table.js).
import * as fs from 'fs';
import { enginePath, run, startProcess } from '../support/engines';

/** A mounted powerlossfs. */
export interface PowerLossDisk {
  readonly mountpoint: string;
  /** Power off and on: every file goes back to its last fsync. Resolves with the filesystem's report. */
  powerOff(): Promise<string>;
  /** Unmounts and stops the filesystem. */
  unmount(): Promise<void>;
}

/** Mounts a fresh, empty powerlossfs on `mountpoint` (created if missing). Needs /dev/fuse and root. */
export async function mountPowerLossDisk(mountpoint: string): Promise<PowerLossDisk> {
  if (!fs.existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: the power-loss tests need FUSE (a container needs --device /dev/fuse). They are never skipped.');
  const binary = enginePath('powerlossfs');
  fs.mkdirSync(mountpoint, { recursive: true });
  const proc = startProcess(binary, [mountpoint]);
  await until(() => proc.output().includes('mounted\n') || proc.child.exitCode !== null, 10_000, () => `powerlossfs did not mount ${mountpoint}:\n${proc.output()}`);
  if (proc.child.exitCode !== null) throw new Error(`powerlossfs failed to mount ${mountpoint}:\n${proc.output()}`);
  let powerOffs = 0;
  return {
    mountpoint,
    powerOff: async () => {
      const reports = () => proc.output().split('\n').filter((line) => line.startsWith('power off:'));
      const seen = ++powerOffs;
      proc.child.kill('SIGUSR1');
      await until(() => reports().length >= seen, 5_000, () => `powerlossfs did not report the power off:\n${proc.output()}`);
      return reports()[seen - 1];
    },
    unmount: async () => {
      await proc.stop('SIGTERM');
      // A mount whose process died without unmounting ("transport endpoint is not connected").
      if (fs.readFileSync('/proc/mounts', 'utf8').includes(` ${mountpoint} `)) run('umount', ['-l', mountpoint]);
    },
  };
}

async function until(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
