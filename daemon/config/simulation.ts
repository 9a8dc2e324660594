/**
 * The simulation defaults (docs/config.md `simulate` and `[simulator]`): the simulator's card,
 * PSAM and ID card files, and the three device defaults that follow whether the simulator runs —
 * the PSAM reader, the PIN pad kind and the ID reader kind. With `simulate = "auto"` the daemon
 * decides at start and calls {@link resolveSimulation}.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from './config.js';
import { invalid } from './problems.js';
import { projectRoot } from './root.js';
import type { ConfigInput } from './schema.js';

/** The PSAM reader of the simulator (vpcd's second slot). */
export const SIM_PSAM_READER = 'Virtual PCD 00 01';

/**
 * The `[simulator]` section resolved: configured paths against `abs`, else the shipped fixtures
 * (fixtures/cards/card-2.0.json, fixtures/psam/psam-test.json) and the ID card matching the card.
 */
export function simulatorFiles(s: ConfigInput['simulator'], abs: (p: string) => string): DaemonConfig['simulator'] {
  const root = projectRoot();
  const card = s.card !== undefined ? abs(s.card) : path.join(root, 'fixtures', 'cards', 'card-2.0.json');
  return {
    card,
    psam: s.psam !== undefined ? abs(s.psam) : path.join(root, 'fixtures', 'psam', 'psam-test.json'),
    stateDir: abs(s.stateDir),
    idCard: s.idCard !== undefined ? abs(s.idCard) : matchingIdCard(card),
  };
}

/**
 * The configuration once the daemon knows whether the simulator runs (simulate "auto" decides at
 * start): the PSAM reader, PIN pad and ID reader defaults filled, `simulate` set to "on"/"off".
 * Throws Config_Invalid for a touchscreen pad on a real terminal without pinPad.allowTouchscreen.
 */
export function resolveSimulation(cfg: DaemonConfig, simulating: boolean): DaemonConfig {
  const pinPadKind = cfg.pinPad.kind ?? (simulating ? 'touchscreen' : 'none');
  if (!simulating && pinPadKind === 'touchscreen' && !cfg.pinPad.allowTouchscreen) {
    const raw = { pinPad: { kind: 'touchscreen', allowTouchscreen: false } };
    throw invalid(raw, cfg.configFile ?? '(defaults)', [
      {
        path: ['pinPad', 'allowTouchscreen'],
        text: {
          zh: '没有使用模拟器，而密码键盘为触摸屏（仅供开发）：请配置加密密码键盘，或设置 pinPad.allowTouchscreen = true',
          en: 'the simulator is not used and the PIN pad is the touchscreen (meant for development): configure an encrypting PIN pad or set pinPad.allowTouchscreen = true',
        },
      },
    ]);
  }
  return {
    ...cfg,
    simulate: simulating ? 'on' : 'off',
    readers: { ...cfg.readers, psam: cfg.readers.psam !== undefined ? cfg.readers.psam : simulating ? SIM_PSAM_READER : null },
    pinPad: { ...cfg.pinPad, kind: pinPadKind },
    idReader: { ...cfg.idReader, kind: cfg.idReader.kind ?? (simulating ? 'simulated' : 'none') },
  };
}

const idCardCache = new Map<string, string | null>();

/** The fixtures/idcards/*.json whose `matchesCard` names the card profile's file (without .json). */
function matchingIdCard(cardFile: string): string | null {
  const cached = idCardCache.get(cardFile);
  if (cached !== undefined) return cached;
  const want = path.basename(cardFile).replace(/\.json$/i, '');
  const dir = path.join(projectRoot(), 'fixtures', 'idcards');
  let found: string | null = null;
  try {
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.json')) continue;
      try {
        const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { matchesCard?: unknown };
        if (j.matchesCard === want) {
          found = path.join(dir, f);
          break;
        }
      } catch {
        // a broken fixture matches nothing
      }
    }
  } catch {
    // no fixtures folder (a trimmed install): no simulated ID card
  }
  idCardCache.set(cardFile, found);
  return found;
}
