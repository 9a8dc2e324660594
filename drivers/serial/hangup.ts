/**
 * serialport's binding with one change on Linux and macOS: a read that returns 0 bytes is the line
 * hanging up, and ends the port as disconnected.
 *
 * The ports are opened with VMIN = 1 and O_NONBLOCK (serialport's defaults), so a read returns data,
 * fails with EAGAIN when there is none, or returns 0 at end of file: the tty was hung up (a
 * USB-serial adapter pulled: the kernel's hung-up tty reads 0) or, for a pty, its other end closed.
 * The stock binding (@serialport/bindings-cpp unix-read.js) reads again at once on 0 bytes, so after
 * such a hangup it spins on the thread pool for ever and the port never reports the loss: the
 * link's reconnect (link.ts) never starts. Seen on this project's ptys (test/serial-line.test.ts):
 * roughly one unplug in ten read 0 instead of failing.
 *
 * Everything else is the stock binding's: open, write, flush, the control lines, close; reads fail
 * as there (EAGAIN waits for the poller's "readable", other errors end the port). And the poller's
 * events re-enter through setImmediate (drivers/native-callback.ts), or on Node 26.4 and later a
 * read waiting for "readable" stays pending until some unrelated event.
 */
import { read } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import { reentered } from '../native-callback.js';

const readAsync = promisify(read);

type Binding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<Binding['open']>>;

/** The parts of the Unix port binding the read uses (@serialport/bindings-cpp linux.js, darwin.js). */
interface UnixPort {
  readonly fd: number | null;
  readonly isOpen: boolean;
  readonly poller: Poller;
}

/** bindings-cpp poller.js: `once` arms the native uv_poll for the event and waits for it. */
interface Poller {
  once(event: 'readable' | 'writable' | 'disconnect', callback: (err: Error | null) => void): unknown;
}

function isUnixPort(p: object): p is UnixPort {
  return 'fd' in p && 'poller' in p && typeof (p as { poller?: { once?: unknown } }).poller?.once === 'function';
}

/** An error the stream takes as "stopped on purpose" (the port was closed): no disconnect. */
function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

const RETRY = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

async function readOrHangup(port: UnixPort, buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw canceled();
    try {
      const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) throw Object.assign(new Error('the serial line hung up (end of file)'), { code: 'EIO', disconnect: true });
      return { bytesRead, buffer };
    } catch (e) {
      if (!RETRY.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      if (!port.isOpen) throw canceled();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (err) => (err ? reject(err) : resolve())));
    }
  }
}

/** serialport's detected binding, its Unix ports reading as {@link readOrHangup}. */
export const HANGUP_AWARE_BINDING: Binding = {
  ...SerialPort.binding,
  list: () => SerialPort.binding.list(),
  async open(options: Parameters<Binding['open']>[0]) {
    // The detected binding is one of serialport's three; its open takes that one's options.
    const base = SerialPort.binding as { open(o: typeof options): Promise<PortBinding> };
    const port = await base.open(options);
    if (isUnixPort(port)) {
      const p = port;
      port.read = (buffer: Buffer, offset: number, length: number) => readOrHangup(p, buffer, offset, length);
      // The native poller calls back outside node::MakeCallback (drivers/native-callback.ts): the
      // waits for "readable" (our read) and "writable" (the stock write) re-enter through setImmediate.
      const poller = port.poller;
      const once = poller.once.bind(poller);
      poller.once = (event, callback) => once(event, reentered(callback));
    }
    return port;
  },
} as Binding;
