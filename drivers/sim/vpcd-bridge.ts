/**
 * Bridge from a VirtualCardDevice to vsmartcard's vpcd reader driver inside a real pcscd
 * (docs/domain.md §8). The card is a TCP client of the reader:
 *
 *   every message: length (2 bytes, big-endian) ‖ payload
 *   payload of 1 byte is a control: 00 power off, 01 power on, 02 reset, 04 get ATR (answer: the ATR)
 *   any longer payload is a C-APDU, answered with the R-APDU
 *
 * Connecting is inserting the card; closing the socket is removing it. pcscd sees "Virtual PCD 00 00"
 * on port 35963 and "Virtual PCD 00 01" on 35964 (the PSAM slot here).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { VirtualCardDevice } from './device.js';

export const VPCD_PORT_CARD = 35963;
export const VPCD_PORT_PSAM = 35964;

const CTRL_POWER_OFF = 0x00;
const CTRL_POWER_ON = 0x01;
const CTRL_RESET = 0x02;
const CTRL_GET_ATR = 0x04;

export interface VpcdBridgeOptions {
  readonly host?: string;
  readonly port?: number;
  /** Connect timeout (ms) for insert(); default 3000. */
  readonly connectTimeoutMs?: number;
  /**
   * Called for every C-APDU before the device sees it (tests inject faults here). Returning
   * 'drop' closes the connection instead of answering, as a card pulled out mid-command.
   */
  readonly onCommand?: (command: Buffer, index: number) => 'drop' | undefined;
  /**
   * When vpcd closes the connection (pcscd stopped or restarted), keep trying to connect again,
   * backing off from 200 ms to 5 s, until it succeeds or remove() is called. Default false.
   */
  readonly autoReconnect?: boolean;
  /**
   * Keep the card out at least this long between remove() and insert() (ms; default 1000).
   * pcscd polls vpcd for presence every 400 ms: a shorter absence goes unnoticed, pcscd never
   * powers the new card up and its first commands fail with SCARD_E_NOT_TRANSACTED.
   */
  readonly minAbsentMs?: number;
}

export interface VpcdBridgeEvents {
  inserted: [];
  removed: [reason: 'requested' | 'peer-closed' | 'error'];
  /** Auto-reconnect: the card is back in the reader after vpcd came back. */
  reconnected: [];
  apdu: [command: Buffer, response: Buffer];
  control: [code: 'powerOff' | 'powerOn' | 'reset' | 'getAtr'];
  error: [error: Error];
}

export class VpcdBridge extends EventEmitter<VpcdBridgeEvents> {
  readonly host: string;
  readonly port: number;
  private socket: net.Socket | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private commandIndex = 0;
  private readonly connectTimeoutMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private wantInserted = false;
  private removedAt = 0;

  constructor(
    private device: VirtualCardDevice,
    private readonly options: VpcdBridgeOptions = {},
  ) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? VPCD_PORT_CARD;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `vpcd 端口无效：${this.port}`, en: `invalid vpcd port: ${this.port}` }, { option: 'port' });
    }
  }

  get inserted(): boolean {
    return this.socket !== undefined;
  }

  get card(): VirtualCardDevice {
    return this.device;
  }

  /** Put another card in this slot (it must be removed first). */
  setCard(device: VirtualCardDevice): void {
    if (this.socket) {
      throw new SsCardError(ErrorCode.Sim_Bridge, { zh: '请先取出当前卡片再换卡', en: 'remove the current card before putting in another' });
    }
    this.device = device;
  }

  /** Connect to vpcd: the card is now in the reader. Rejects with a clear error when pcscd/vpcd is not listening. */
  async insert(): Promise<void> {
    this.wantInserted = true;
    if (this.socket) return;
    const wait = this.removedAt + (this.options.minAbsentMs ?? 1000) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.socket) return;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(this.unreachable(new Error('connect timeout')));
      }, this.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(this.unreachable(err));
      });
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (err) => {
      this.emit('error', err);
    });
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.removedAt = Date.now();
        this.device.powerOff();
        this.emit('removed', 'peer-closed');
        if (this.options.autoReconnect && this.wantInserted) this.scheduleReconnect(200);
      }
    });
    this.emit('inserted');
  }

  /** Close the connection: the card is taken out of the reader. */
  async remove(): Promise<void> {
    this.wantInserted = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    this.removedAt = Date.now();
    this.device.powerOff();
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
    this.emit('removed', 'requested');
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.wantInserted || this.socket) return;
      this.insert().then(
        () => this.emit('reconnected'),
        () => this.scheduleReconnect(Math.min(5000, delayMs * 2)),
      );
    }, delayMs);
  }

  private unreachable(cause: Error): SsCardError {
    return new SsCardError(
      ErrorCode.Sim_Bridge,
      {
        zh: `无法连接虚拟读卡器 vpcd（${this.host}:${this.port}）：请确认 pcscd 已启动且已安装 vsmartcard-vpcd（运行 ./scripts/setup.sh）`,
        en: `cannot reach the vpcd virtual reader at ${this.host}:${this.port}: make sure pcscd is running and vsmartcard-vpcd is installed (run ./scripts/setup.sh)`,
      },
      { host: this.host, port: this.port },
      { cause },
    );
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + len) return;
      const payload = this.pending.subarray(2, 2 + len);
      this.pending = this.pending.subarray(2 + len);
      const answer = this.handle(payload);
      if (answer === 'drop') {
        void this.remove();
        return;
      }
      if (answer) {
        const header = Buffer.alloc(2);
        header.writeUInt16BE(answer.length, 0);
        // One write: length and body in one segment avoids a delayed-ACK stall on our side.
        socket.write(Buffer.concat([header, answer]));
      }
    }
  }

  private handle(payload: Buffer): Buffer | 'drop' | undefined {
    if (payload.length === 1) {
      switch (payload[0]) {
        case CTRL_POWER_OFF:
          this.device.powerOff();
          this.emit('control', 'powerOff');
          return undefined;
        case CTRL_POWER_ON:
          this.device.powerOn();
          this.emit('control', 'powerOn');
          return undefined;
        case CTRL_RESET:
          this.device.reset();
          this.emit('control', 'reset');
          return undefined;
        case CTRL_GET_ATR:
          this.emit('control', 'getAtr');
          return this.device.atr;
        default:
          return undefined;
      }
    }
    const index = this.commandIndex++;
    if (this.options.onCommand?.(payload, index) === 'drop') return 'drop';
    let response: Buffer;
    try {
      response = this.device.process(Buffer.from(payload));
    } catch (err) {
      // A card OS never throws at the reader; if ours does, answer 6F00 (no precise diagnosis).
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      response = Buffer.from([0x6f, 0x00]);
    }
    this.emit('apdu', payload, response);
    return response;
  }
}
