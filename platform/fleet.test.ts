import { describe, expect, it } from 'vitest';
import { fleetPage, fleetView } from './fleet.js';
import type { TerminalRecord } from './store/store.js';

const NOW = Date.UTC(2026, 11, 3, 10, 0);
const MIN = 60_000;

function record(id: string, o: Partial<TerminalRecord> & { hb?: Record<string, unknown> } = {}): TerminalRecord {
  const { hb, ...rest } = o;
  return {
    terminalId: id,
    lastSeenAt: NOW - MIN,
    skewMs: 40,
    backlog: 0,
    previousBacklog: 0,
    heartbeat: {
      software: '0.1.0',
      role: 'self-service',
      services: ['verify', 'change'],
      health: { pcsc: true, cardReaders: 1, psam: 'ok', pinPad: 'ok', idReader: 'none' },
      backlog: { operations: 0, oldestUnsyncedAt: null, bankRequests: 0 },
      hotlist: { version: '12', check: 'verified' },
      ...hb,
    },
    ...rest,
  };
}

describe('the fleet view', () => {
  it('a healthy terminal has no alarm; each condition raises its own', () => {
    const v = fleetView(
      [
        record('K-OK'),
        record('K-SILENT', { lastSeenAt: NOW - 11 * MIN }),
        record('K-GROWING', { backlog: 40, previousBacklog: 30, hb: { backlog: { operations: 40, oldestUnsyncedAt: new Date(NOW - 90 * MIN).toISOString(), bankRequests: 0 } } }),
        record('K-DRAINING', { backlog: 20, previousBacklog: 30, hb: { backlog: { operations: 20, oldestUnsyncedAt: new Date(NOW - 90 * MIN).toISOString(), bankRequests: 0 } } }),
        record('K-NEW-ROWS', { backlog: 3, previousBacklog: 1, hb: { backlog: { operations: 3, oldestUnsyncedAt: new Date(NOW - 2 * MIN).toISOString(), bankRequests: 0 } } }),
        record('K-REFUSED', { hb: { hotlist: { version: '11', check: 'refused' } } }),
        record('K-SKEW', { skewMs: -6 * MIN }),
        record('K-PSAM', { hb: { health: { pcsc: true, cardReaders: 1, psam: 'problem', pinPad: 'ok', idReader: 'none' } } }),
        record('K-PCSC', { hb: { health: { pcsc: false, cardReaders: 0, psam: 'ok', pinPad: 'ok', idReader: 'none' } } }),
      ],
      NOW,
      12,
    );
    const alarms = Object.fromEntries(v.terminals.map((t) => [t.terminalId, t.alarms]));
    expect(alarms).toEqual({
      'K-OK': [],
      'K-SILENT': ['silent'],
      'K-GROWING': ['backlogGrowing'],
      'K-DRAINING': [],
      'K-NEW-ROWS': [],
      'K-REFUSED': ['hotlistRefused'],
      'K-SKEW': ['clockSkew'],
      'K-PSAM': ['device'],
      'K-PCSC': ['device'],
    });
    expect(v.alarms).toEqual({ silent: 1, backlogGrowing: 1, hotlistRefused: 1, clockSkew: 1, device: 2 });
    expect(v.hotlistVersion).toBe('12');
    expect(v.terminals.find((t) => t.terminalId === 'K-OK')).toMatchObject({ software: '0.1.0', role: 'self-service', services: ['verify', 'change'], silentForMs: MIN, hotlistVersion: '12', hotlistCheck: 'verified' });
  });

  it('thresholds are settings', () => {
    const v = fleetView([record('K-1', { lastSeenAt: NOW - 3 * MIN })], NOW, 0, { silentAfterMs: 2 * MIN });
    expect(v.terminals[0]!.alarms).toEqual(['silent']);
    expect(v.thresholds).toEqual({ silentAfterMs: 2 * MIN, backlogAlarmAgeMs: 30 * MIN, clockSkewAlarmMs: 5 * MIN });
  });

  it('the page escapes what terminals send and lists alarms first', () => {
    const v = fleetView([record('K-A'), record('K-B', { lastSeenAt: NOW - 60 * MIN, hb: { software: '<script>alert(1)</script>' } })], NOW, 3);
    const html = fleetPage(v);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html.indexOf('K-B')).toBeLessThan(html.indexOf('K-A'));
    expect(html).toContain('失联 silent');
    expect(html).toContain('http-equiv="refresh"');
  });
});
