/**
 * A throwaway PostgreSQL cluster for the platform's tests and benchmarks (docs/sync-protocol.md,
 * "The platform on PostgreSQL"): Debian's own server binaries (`postgresql`, installed by
 * scripts/setup.sh), `initdb` into a temporary folder, started on a free loopback port with its
 * socket in that folder, owned by an unprivileged user (PostgreSQL refuses to run as root: as
 * root the cluster belongs to the `postgres` user the package created), removed afterwards.
 * Never the machine's own cluster, never a mock.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

const PG_LIB = '/usr/lib/postgresql';

/** The newest server version's bin folder (/usr/lib/postgresql/<major>/bin), or undefined when the server is not installed. */
export function pgBinDir(): string | undefined {
  if (!existsSync(PG_LIB)) return undefined;
  const majors = readdirSync(PG_LIB)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(PG_LIB, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : path.join(PG_LIB, majors[0], 'bin');
}

export class PgCluster {
  private stopped = false;

  private constructor(
    public readonly dir: string,
    public readonly port: number,
    private readonly bin: string,
    private readonly asUser: string | undefined,
  ) {}

  /** The postmaster's process id while the server runs (data/postmaster.pid), for its CPU time. */
  public get pid(): number | undefined {
    try {
      const n = Number(readFileSync(path.join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /** postgres://sscard@127.0.0.1:<port>/<database> */
  public url(database = 'postgres'): string {
    return `postgres://sscard@127.0.0.1:${this.port}/${database}`;
  }

  private run(tool: string, args: readonly string[]): string {
    const cmd = path.join(this.bin, tool);
    const [file, argv] = this.asUser === undefined ? [cmd, [...args]] : ['runuser', ['-u', this.asUser, '--', cmd, ...args]];
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: this.dir });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${String(r.status ?? r.signal)}): ${(r.stderr || r.stdout).trim().slice(-1500)}`);
    return r.stdout;
  }

  /** initdb, start, and create each of `databases`. */
  public static async start(databases: readonly string[] = ['sscard_platform']): Promise<PgCluster> {
    const bin = pgBinDir();
    if (bin === undefined) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): run ./scripts/setup.sh (apt-get install postgresql)');
    const root = process.getuid?.() === 0;
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-pg-'));
    if (root) {
      const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
      const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
      chownSync(dir, Number(ids), Number(gid));
    }
    chmodSync(dir, 0o700);
    const port = await freePort();
    const c = new PgCluster(dir, port, bin, root ? 'postgres' : undefined);
    try {
      const data = path.join(dir, 'data');
      // trust on loopback only: a throwaway cluster nobody else can reach (listen_addresses 127.0.0.1, socket in our folder).
      c.run('initdb', ['-D', data, '-U', 'sscard', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
      c.run('pg_ctl', ['-D', data, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`, 'start']);
      for (const db of databases) c.run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'sscard', db]);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Stop the server (mode `fast`: what a restart mid-ingest is; `immediate`: a crash) and start it again. */
  public restart(mode: 'fast' | 'immediate' = 'fast'): void {
    const data = path.join(this.dir, 'data');
    this.run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    this.run('pg_ctl', ['-D', data, '-l', path.join(this.dir, 'postgres.log'), '-w', '-t', '60', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, 'start']);
  }

  /** Stop the server and remove the cluster. */
  public stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    try {
      if (existsSync(path.join(this.dir, 'data', 'postmaster.pid'))) this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already down
    }
    rmSync(this.dir, { recursive: true, force: true });
    return Promise.resolve();
  }
}
