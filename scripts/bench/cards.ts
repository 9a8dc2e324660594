import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CardsReply, CardsRequest } from './cards-process.js';
import { stopChild } from './processes.js';
import { step } from './run.js';

/**
 * The virtual cards in a child process (cards-process.ts), one VirtualSsCard per card port and
 * the VirtualPsam. Never in the bench's own process: the pcsclite addon holds a reader's mutex
 * for the whole SCardTransmit while its status callback on the main thread waits for that mutex,
 * so a card answered by the main thread deadlocks the first time pcscd reports a status change
 * during a transmit.
 */
export class Cards {
  private readonly waiting: ((m: CardsReply) => void)[] = [];
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: CardsReply) => this.waiting.shift()?.(m));
    child.on('exit', (code, sig) => {
      this.exited = `the card process ended (${sig ?? String(code)})`;
      for (const w of this.waiting.splice(0)) w({ type: 'error', message: this.exited });
    });
  }

  /** `execArgv`: the card process's node options (['--import', 'tsx'] to run it from the sources, as the end-to-end suites do). */
  static start(env: NodeJS.ProcessEnv, execArgv?: readonly string[]): Cards {
    const self = fileURLToPath(import.meta.url);
    const script = path.join(path.dirname(self), `cards-process${path.extname(self)}`);
    return new Cards(fork(script, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(execArgv === undefined ? {} : { execArgv: [...execArgv] }) }));
  }

  request(m: CardsRequest, ms = 20_000): Promise<CardsReply> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    return step(
      `card process (${m.type})`,
      ms,
      new Promise<CardsReply>((resolve) => {
        this.waiting.push(resolve);
        this.child.send(m);
      }),
    );
  }

  /** Insert the cards; throws with the card process's reason. */
  async insert(m: Omit<Extract<CardsRequest, { type: 'insert' }>, 'type'>): Promise<void> {
    const r = await this.request({ type: 'insert', ...m });
    if (r.type !== 'inserted') throw new Error(`inserting the virtual cards: ${r.type === 'error' ? r.message : r.type}`);
  }

  /** Take the cards out of their readers, or put them back (bench:web's insertions); the PSAM stays. */
  async move(to: 'out' | 'in'): Promise<void> {
    const r = await this.request({ type: to === 'out' ? 'cardsOut' : 'cardsIn' });
    if (r.type !== 'moved') throw new Error(`moving the virtual cards ${to}: ${r.type === 'error' ? r.message : r.type}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** APDUs the cards and the PSAM have answered, and the errors the card process has seen, so far. */
  async counts(): Promise<{ card: number; psam: number; errors: number }> {
    const r = await this.request({ type: 'counts' });
    if (r.type !== 'counts') throw new Error(`card process: ${r.type === 'error' ? r.message : r.type}`);
    return r;
  }

  async stop(): Promise<void> {
    if (this.exited === undefined) await this.request({ type: 'remove' }, 5000).catch(() => undefined);
    await stopChild(this.child, 2000);
  }
}
