/**
 * The kiosk's settings from its address, as a kiosk's full-screen browser is started with it
 * (web/README.md): `shuffle=off` keeps the on-screen keypad in the phone layout (by default its
 * digits are shuffled for every PIN entry, against shoulder-surfing); `idle` and `countdown` are
 * the seconds without a touch before the countdown shows and how long it runs. A value out of
 * range or not a whole number is ignored (the default stands): a typo cannot make a kiosk that
 * never times out or one that leaves before a holder can read.
 */
import { DEFAULT_CONFIG, type KioskConfig } from './flow.js';

const seconds = (v: string | null, min: number, max: number): number | null => {
  if (v === null || !/^\d{1,4}$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n * 1000 : null;
};

export function configFromQuery(search: string): KioskConfig {
  const q = new URLSearchParams(search);
  return {
    ...DEFAULT_CONFIG,
    shuffleKeypad: q.get('shuffle') !== 'off',
    idleMs: seconds(q.get('idle'), 5, 600) ?? DEFAULT_CONFIG.idleMs,
    countdownMs: seconds(q.get('countdown'), 5, 120) ?? DEFAULT_CONFIG.countdownMs,
  };
}
