import { describe, expect, it } from 'vitest';
import { deviceValue, formatDuration, formatTime, viewOf } from './model.js';
import { padCapabilitiesOf, reportOf } from './report.js';

/** A Common.Status completion as the simulating daemon sends it (docs/api.md "Common"). */
const STATUS = {
  common: { device: 'online' },
  cardReader: { media: 'present' },
  keyboard: { device: 'online' },
  sscard: {
    terminalId: 'T-0001',
    deviceId: 'D-01',
    role: 'kiosk',
    services: ['verify', 'change'],
    version: '1.2.3',
    uptimeMs: 2 * 3600_000 + 3 * 60_000 + 9000,
    simulated: true,
    pcsc: { up: true, problem: null },
    readers: [
      { name: 'Virtual PCD 00 00', slot: 'card', cardPresent: true, atr: '3B6C0000', busy: false },
      { name: 'Virtual PCD 00 01', slot: 'psam', cardPresent: true, atr: '3B0A', busy: false },
    ],
    card: { present: true, identified: true, cardNumberMasked: 'X0****019', nameMasked: '王**', specVersion: '2.00', triesLeft: 6, cardState: 'active', session: 'identified' },
    psam: { kind: 'pcsc', name: 'Virtual PCD 00 01', connected: true, problem: null, terminalNumber: '410100000001' },
    pinPad: { kind: 'touchscreen', name: 'touchscreen', connected: true, problem: null, secureEntry: false },
    idReader: { kind: 'serial', name: '/dev/pts/7', connected: false, problem: { zh: '身份证读卡器未连接', en: 'the ID card reader is not connected' } },
    journal: { open: true, pending: 0, unsynced: 2, rows: 5 },
    sync: { enabled: false, lastSuccessAt: null, lastError: null, backlog: 2, hotlistCheck: { state: 'refused', offered: 'v8', inForce: 'v7', at: 1_700_000_000_000 } },
    hotlist: { version: 'v7', updatedAt: null, entries: 3 },
    bankRequests: { pending: 2, sent: 7, oldestPendingAt: 1_700_000_000_000, oldestPendingAgeMs: 3 * 60_000 + 9000 },
  },
};

const field = (view: ReturnType<typeof viewOf>, key: string) => view.sections.flatMap((s) => s.fields).find((f) => f.key === key)!;

describe('status report → view model', () => {
  it('shows every device of the report with its state, the card masked as sent', () => {
    const view = viewOf(reportOf(STATUS)!);
    expect(view.sections.map((s) => s.id)).toEqual(['terminal', 'card', 'devices', 'journal']);
    expect(view.readers).toEqual([
      { name: 'Virtual PCD 00 00', role: { zh: '用户卡座', en: 'card slot' }, card: { zh: '有卡', en: 'present' }, atr: '3B6C0000', busy: { zh: '否', en: 'no' } },
      { name: 'Virtual PCD 00 01', role: { zh: 'PSAM 卡座', en: 'PSAM slot' }, card: { zh: '有卡', en: 'present' }, atr: '3B0A', busy: { zh: '否', en: 'no' } },
    ]);
    expect(field(view, 'cardNumber').value.zh).toBe('X0****019');
    expect(field(view, 'holder').value.en).toBe('王**');
    expect(field(view, 'psamNumber').value.zh).toBe('410100000001');
    expect(field(view, 'pinPad')).toMatchObject({ tone: 'ok', value: { zh: '已连接 · touchscreen', en: 'connected · touchscreen' } });
    expect(field(view, 'idReader')).toMatchObject({ tone: 'fail', value: { zh: '未连接 · serial · 身份证读卡器未连接', en: 'not connected · serial · the ID card reader is not connected' } });
    expect(field(view, 'pcsc')).toMatchObject({ tone: 'ok', value: { zh: '正常运行', en: 'up' } });
    expect(field(view, 'rows').value.zh).toBe('5');
    expect(field(view, 'unsynced').value.zh).toBe('2');
    expect(field(view, 'hotlistVersion').value.zh).toBe('v7');
    expect(field(view, 'hotlistEntries').value.zh).toBe('3');
    expect(field(view, 'hotlistCheck')).toMatchObject({ value: { en: 'did not verify: refused (the list in force kept)' }, tone: 'fail' });
    expect(field(view, 'hotlistUpdated').value).toEqual({ zh: '从未', en: 'never' });
    // A financial window's bank-account requests waiting for the platform (seed 000_1700379f35991b5f.txt lines 64–66).
    expect(field(view, 'bankPending').value).toEqual({ zh: '2', en: '2' });
    expect(field(view, 'bankSent').value.zh).toBe('7');
    expect(field(view, 'bankOldest').value).toEqual({ zh: '3 分', en: '3 min' });
    expect(field(view, 'uptime').value).toEqual({ zh: '2 小时 3 分', en: '2 h 3 min' });
    expect(field(view, 'simulated').value).toEqual({ zh: '是', en: 'yes' });
  });

  it('a card not identified shows no number; PC/SC down shows its problem in both languages', () => {
    const s = structuredClone(STATUS);
    s.sscard.card = { present: true, identified: false, cardNumberMasked: 'X0****019', nameMasked: '王**', specVersion: '', triesLeft: 6, cardState: '', session: 'reading' };
    (s.sscard as Record<string, unknown>)['pcsc'] = { up: false, problem: { zh: 'PC/SC 服务尚未就绪', en: 'the PC/SC service is not up yet' } };
    const view = viewOf(reportOf(s)!);
    expect(field(view, 'cardNumber').value).toEqual({ zh: '无', en: 'none' });
    expect(field(view, 'holder').value).toEqual({ zh: '无', en: 'none' });
    expect(field(view, 'pcsc')).toMatchObject({ tone: 'fail', value: { zh: 'PC/SC 服务尚未就绪', en: 'the PC/SC service is not up yet' } });
  });

  it('reads defensively: missing or mistyped fields become "unknown"/"none", never an exception', () => {
    expect(reportOf({})).toBeNull();
    const r = reportOf({ sscard: { readers: 'x', card: 5, journal: { rows: 'many' }, services: [1, 'verify'] } })!;
    expect(r.readers).toEqual([]);
    expect(r.services).toEqual(['verify']);
    expect(r.hotlist).toBeNull();
    expect(r.bankRequests).toBeNull();
    const view = viewOf(r);
    expect(field(view, 'rows').value).toEqual({ zh: '未知', en: 'unknown' });
    expect(field(view, 'hotlistVersion').value).toEqual({ zh: '未知', en: 'unknown' });
    expect(field(view, 'psam').value).toEqual({ zh: '未配置', en: 'not configured' });
  });

  it('deviceValue, formatDuration and formatTime', () => {
    expect(deviceValue({ kind: 'none', name: null, connected: false, problem: null }).value).toEqual({ zh: '未配置', en: 'not configured' });
    expect(deviceValue({ kind: 'pcsc', name: 'R', connected: false, problem: null })).toEqual({ value: { zh: '未连接 · pcsc · R', en: 'not connected · pcsc · R' }, tone: 'fail' });
    expect(deviceValue({ kind: 'touchscreen', name: 'touchscreen (development)', connected: true, problem: null }).value.en).toBe('connected · touchscreen (development)');
    expect(formatDuration(42_000)).toEqual({ zh: '42 秒', en: '42 s' });
    expect(formatDuration(3 * 86_400_000 + 60_000)).toEqual({ zh: '3 天 0 小时 1 分', en: '3 d 0 h 1 min' });
    const t = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(formatTime(t)).toBe('2026-01-02 03:04:05');
  });

  it('the PIN pad capabilities decide the on-screen keypad', () => {
    expect(padCapabilitiesOf({ sscard: { pinPad: { kind: 'touchscreen', touchKeys: true } } })).toEqual({ kind: 'touchscreen', touchKeys: true });
    expect(padCapabilitiesOf({ sscard: { pinPad: { kind: 'pcsc', touchKeys: false } } })).toEqual({ kind: 'pcsc', touchKeys: false });
    expect(padCapabilitiesOf({})).toBeNull();
  });
});
