/**
 * `sscard pinpad test [--device …]`: try a PIN pad. Shows each key as `*`, reports timing and
 * errors, never prints a digit. Devices:
 *   serial:/dev/ttyUSB0[@9600]   ZT598-style serial EPP in plaintext mode
 *   hid:1234:5678                USB HID keypad (key map from --model, default fixtures/pinpads/hid-numpad.json)
 *   pcsc[:reader name]           PC/SC reader with a keypad: feature discovery only (a secure
 *                                VERIFY would spend a PIN try on the card)
 *   sim-serial | sim-hid         the simulators; the keys you type in this terminal are the pad's
 */
import { UndoStack } from '../core/undo.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, SsCardError, isSsCardError } from '../core/errors.js';
import type { HidPinPadConfig } from '../drivers/pinpad/hid-pinpad.js';
import { HidPinPad, parseHidPinPadConfig } from '../drivers/pinpad/hid-pinpad.js';
import { Feature } from '../drivers/pinpad/part10.js';
import { PcscPinPad } from '../drivers/pinpad/pcsc-pinpad.js';
import type { PinKeyEvent, PinPad } from '../drivers/pinpad/pinpad.js';
import { SerialPinPad } from '../drivers/pinpad/serial-pinpad.js';
import { SimHidBinding } from '../drivers/sim/pinpad-hid.js';
import { SimKeypad } from '../drivers/sim/pinpad-keypad.js';
import { Zt598Simulator } from '../drivers/sim/pinpad-zt598.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { action, chooseCardReader, openService, projectRoot } from './cli-util.js';

export interface PinpadTestOptions {
  device?: string;
  model?: string;
  min?: string;
  max?: string;
  timeout?: string;
  count?: string;
  json?: boolean;
}

function intOpt(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 --${name} 必须是 ${min}–${max} 的整数，实际为“${v}”`, en: `option --${name} must be an integer ${min}..${max}, got "${v}"` }, { option: name });
  }
  return n;
}

function loadModel(file: string | undefined): HidPinPadConfig {
  const f = file ?? path.join(projectRoot(), 'fixtures', 'pinpads', 'hid-numpad.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(f, 'utf8'));
  } catch (err) {
    throw new SsCardError(ErrorCode.Config_Invalid, { zh: `无法读取键盘型号配置 ${f}：请检查 --model 路径`, en: `cannot read the pad model config ${f}: check the --model path` }, { file: f }, { cause: err });
  }
  return parseHidPinPadConfig(json, path.basename(f));
}

/** Feed this terminal's keys to a simulated keypad (raw mode on a TTY, so nothing is echoed). */
function keysFromTerminal(keypad: SimKeypad): () => void {
  const stdin = process.stdin;
  const onData = (chunk: Buffer): void => {
    for (const ch of chunk.toString('latin1')) {
      if (ch === '\u0003') process.kill(process.pid, 'SIGINT');
      const key = ch === '\r' || ch === '\n' ? 'E' : ch === '\u001b' ? 'C' : ch === '\u007f' || ch === '\b' ? 'B' : ch;
      try {
        keypad.press(key);
      } catch {
        // not a pad key: ignored, like a real pad's unlabeled keys
      }
    }
  };
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  };
}

export async function pinpadTestCommand(opts: PinpadTestOptions): Promise<number> {
  const device = opts.device ?? 'sim-serial';
  const minLength = intOpt('min', opts.min, 6, 1, 12);
  const maxLength = intOpt('max', opts.max, Math.max(6, minLength), minLength, 12);
  const timeoutMs = intOpt('timeout', opts.timeout, 30, 1, 600) * 1000;
  const count = intOpt('count', opts.count, 1, 1, 100);
  const out = (s: string): void => {
    if (!opts.json) process.stdout.write(s);
  };
  const undo = new UndoStack();
  try {
    let pad: PinPad;
    if (device.startsWith('pcsc')) {
      const service = await openService();
      undo.push(() => service.stop());
      const info = chooseCardReader(service, device.includes(':') ? device.slice(device.indexOf(':') + 1) : undefined);
      const channel = await service.connect(info.name);
      undo.push(() => channel.close());
      const p = new PcscPinPad(channel);
      await p.open();
      const report = {
        device: p.name,
        capabilities: p.capabilities,
        features: Object.fromEntries([...p.featureCodes].map(([tag, code]) => [`0x${tag.toString(16).padStart(2, '0')}`, `0x${code.toString(16)}`])),
        pinProperties: p.pinProperties ?? null,
        tlvProperties: p.tlvProperties ? { minPinSize: p.tlvProperties.minPinSize ?? null, maxPinSize: p.tlvProperties.maxPinSize ?? null, lcdLayout: p.tlvProperties.lcdLayout ?? null, firmwareId: p.tlvProperties.firmwareId ?? null } : null,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        out(`读卡器键盘 reader keypad: ${p.name}\n`);
        out(`  安全校验 secure VERIFY: ${p.capabilities.secureVerify ? '支持 yes' : '不支持 no'} (FEATURE_VERIFY_PIN_DIRECT ${p.featureCodes.has(Feature.VERIFY_PIN_DIRECT) ? 'present' : 'absent'})\n`);
        out(`  安全修改 secure CHANGE: ${p.capabilities.secureChange ? '支持 yes' : '不支持 no'}\n`);
        if (report.tlvProperties) out(`  PIN 位数 digits: ${String(report.tlvProperties.minPinSize)}..${String(report.tlvProperties.maxPinSize)}; 固件 firmware: ${String(report.tlvProperties.firmwareId)}\n`);
        out('  （不发送 VERIFY：那会消耗一次密码尝试 / no VERIFY sent: it would spend a PIN try）\n');
      }
      return 0;
    } else if (device.startsWith('serial:')) {
      const spec = device.slice('serial:'.length);
      const [p, baud] = spec.split('@');
      pad = new SerialPinPad({ path: p ?? '', ...(baud ? { baudRate: intOpt('device baud', baud, 9600, 300, 4_000_000) } : {}) });
    } else if (device.startsWith('hid:')) {
      const [vid, pid] = device.slice(4).split(':');
      const model = loadModel(opts.model);
      const config = vid && pid ? { ...model, vendorId: parseInt(vid, 16), productId: parseInt(pid, 16) } : model;
      pad = new HidPinPad({ config });
    } else if (device === 'sim-serial') {
      const pty = await PtyPair.open();
      undo.push(() => pty.close());
      const keypad = new SimKeypad();
      const sim = new Zt598Simulator(keypad, { path: pty.b });
      await sim.start();
      undo.push(() => sim.stop());
      undo.push(keysFromTerminal(keypad));
      out(`模拟串口键盘 simulated serial pad on ${pty.a}: 在此终端输入数字，回车确认，Esc 取消 / type digits here, Enter to finish, Esc to cancel\n`);
      pad = new SerialPinPad({ path: pty.a });
    } else if (device === 'sim-hid') {
      const keypad = new SimKeypad();
      const config = loadModel(opts.model);
      undo.push(keysFromTerminal(keypad));
      out('模拟 USB 键盘 simulated HID pad: 在此终端输入数字，回车确认，Esc 取消 / type digits here, Enter to finish, Esc to cancel\n');
      pad = new HidPinPad({ config, binding: new SimHidBinding(config, keypad) });
    } else {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: `无法识别的设备“${device}”：请用 serial:<串口>、hid:<vid>:<pid>、pcsc[:<读卡器>]、sim-serial 或 sim-hid`, en: `unknown device "${device}": use serial:<port>, hid:<vid>:<pid>, pcsc[:<reader>], sim-serial or sim-hid` },
        { option: 'device' },
      );
    }
    await pad.open();
    undo.push(() => pad.close());
    out(`键盘 pad: ${pad.name} — 已连接 connected\n`);
    const results: { ok: boolean; digits?: number; ms: number; keys: { key: string; count: number; ms: number }[]; error?: { code: number; zh: string; en: string } }[] = [];
    for (let i = 0; i < count; i++) {
      out(`请输入密码 enter a PIN (${minLength}${maxLength !== minLength ? `–${maxLength}` : ''} 位 digits)… `);
      const started = performance.now();
      let last = started;
      const keys: { key: string; count: number; ms: number }[] = [];
      const onKey = (e: PinKeyEvent): void => {
        const now = performance.now();
        keys.push({ key: e.key, count: e.count, ms: Math.round(now - last) });
        last = now;
        out(e.key === 'digit' ? '*' : e.key === 'backspace' ? '\b \b' : e.key === 'clear' ? ' [清除 clear] ' : '');
      };
      try {
        const r = await pad.enterPin({ minLength, maxLength, timeoutMs, autoEnd: maxLength === minLength, onKey });
        const digits = r.length;
        r.pin.fill(0);
        results.push({ ok: true, digits, ms: Math.round(r.elapsedMs), keys });
        out(`\n  完成 done: ${digits} 位 digits, ${Math.round(r.elapsedMs)} ms; 按键间隔 key gaps: ${keys.map((k) => k.ms).join(' / ')} ms\n`);
      } catch (err) {
        if (!isSsCardError(err)) throw err;
        results.push({ ok: false, ms: Math.round(performance.now() - started), keys, error: { code: err.code, zh: err.text.zh, en: err.text.en } });
        out(`\n  错误 E${err.code}: ${err.text.zh}\n  Error E${err.code}: ${err.text.en}\n`);
      }
    }
    if (opts.json) process.stdout.write(`${JSON.stringify({ device: pad.name, results }, null, 2)}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await undo.run();
  }
}

export function register(program: Command): void {
  const pinpad = program.command('pinpad').description('密码键盘 / PIN pads');
  pinpad
    .command('test')
    .description('试用密码键盘：每个按键显示为 *，报告耗时与错误，从不显示数字 / try a PIN pad: keys shown as *, timing and errors, never a digit')
    .option('--device <spec>', 'serial:<port>[@baud] | hid:<vid>:<pid> | pcsc[:<reader>] | sim-serial | sim-hid', 'sim-serial')
    .option('--model <file>', 'HID key map (fixtures/pinpads/*.json)')
    .option('--min <n>', 'fewest digits (default 6)')
    .option('--max <n>', 'most digits (default 6)')
    .option('--timeout <s>', 'seconds per entry (default 30)')
    .option('--count <n>', 'entries to take (default 1)')
    .option('--json', 'JSON output')
    .action(action((opts: PinpadTestOptions) => pinpadTestCommand(opts)));
}
