import { describe, expect, it } from 'vitest';
import { blockNeedles, CLOCK_WINDOW_MS, findLeaks, needlesFor, pinNeedles } from './pin-scan.js';

const P = '864209';

describe('the PIN-leak scanner', () => {
  it.each([
    ['ASCII in a log line', `{"level":"debug","msg":"pin ${P}"}`],
    ['spaced hex in an APDU trace', 'C 80 FA 05 00 10 01 02 03 04 05 06 07 08 80 5E 00 00 07 86 42 09'],
    ['lower-case spaced hex', 'c 00 20 00 00 03 86 42 09'],
    ['F-padded spaced hex', 'data 86 42 09 ff'],
    ['UTF-16LE', Buffer.from(`x${P}y`, 'utf16le')],
    ['UTF-16BE', Buffer.from(`x${P}y`, 'utf16le').swap16()],
    ['Lc ‖ BCD (VERIFY data)', Buffer.from('0020000003864209', 'hex')],
    ['BCD ‖ FF', Buffer.from('aa864209ffbb', 'hex')],
    ['format-2 block head', Buffer.from('26864209ffffffff', 'hex')],
    ['bare BCD bytes', Buffer.from('aa864209bb', 'hex')],
  ])('finds the PIN as %s', (_what, hay) => {
    expect(findLeaks(hay, pinNeedles(P))).not.toEqual([]);
  });

  it('finds nothing where there is nothing, and the bare BCD only when asked', () => {
    expect(findLeaks('C 00 A4 04 00 0F 73 78 31 2E 73 68 2E', needlesFor([P, '123456']))).toEqual([]);
    expect(findLeaks(Buffer.from('aa864209bb', 'hex'), pinNeedles(P, { bareBcd: false }))).toEqual([]);
  });

  it('optionally ignores digits inside long hex runs (hashes, UUIDs), never a short trace', () => {
    const hash = `a1b2c3d4e5f6${P}a1b2c3d4e5f6a1b2c3d4e5f6a1b2`;
    expect(findLeaks(hash, pinNeedles(P), { ignoreIncidentalDigits: true })).toEqual([]);
    expect(findLeaks(hash, pinNeedles(P))).not.toEqual([]);
    expect(findLeaks(`0020000003${P}`, pinNeedles(P), { ignoreIncidentalDigits: true })).not.toEqual([]);
  });

  it('optionally ignores digits inside a clock reading near now (13 digits of epoch ms), never a longer, shorter or distant number', () => {
    const now = Date.now();
    const clock = String(Math.floor(now / 1e6) * 1e6 + Number(P));
    expect(clock).toHaveLength(13);
    const state = Buffer.from(`\x03'sync_last_success${clock}U\x01`, 'latin1');
    expect(findLeaks(state, pinNeedles(P, { bareBcd: false }), { ignoreIncidentalDigits: true, databasePages: true })).toEqual([]);
    expect(findLeaks(`{"at":${clock}}`, pinNeedles(P), { ignoreIncidentalDigits: true })).toEqual([]);
    expect(findLeaks(`{"at":${clock}}`, pinNeedles(P))).not.toEqual([]);
    const distant = String(Math.floor((now - 2 * CLOCK_WINDOW_MS) / 1e6) * 1e6 + Number(P));
    for (const hay of [`{"at":${distant}}`, `{"n":9${clock}}`, `{"n":${clock.slice(1)}}`, `{"pin":"${P}","at":${clock}}`]) {
      expect(findLeaks(hay, pinNeedles(P), { ignoreIncidentalDigits: true }), hay).not.toEqual([]);
    }
  });

  it('in database pages, also ignores digits in a short fragment of hex text, never plain digits or F-padded hex', () => {
    const pages = { ignoreIncidentalDigits: true, databasePages: true } as const;
    const fragment = Buffer.concat([Buffer.from([0x18, 0x5c, 0x29]), Buffer.from(`9-${P}2c0276`, 'latin1'), Buffer.from([0x03, 0x55])]);
    expect(findLeaks(fragment, pinNeedles(P, { bareBcd: false }), pages)).toEqual([]);
    expect(findLeaks(fragment, pinNeedles(P, { bareBcd: false }), { ignoreIncidentalDigits: true })).not.toEqual([]);
    expect(findLeaks(Buffer.from(`\x00${P}\x00`, 'latin1'), pinNeedles(P, { bareBcd: false }), pages)).not.toEqual([]);
    expect(findLeaks(Buffer.from(`{"pin":"${P}"}`, 'latin1'), pinNeedles(P, { bareBcd: false }), pages)).not.toEqual([]);
    expect(findLeaks(Buffer.from(`805E010007${P}FF123456`, 'latin1'), pinNeedles(P, { bareBcd: false }), pages)).not.toEqual([]);
  });

  it('finds a PIN block as bytes and as hex text, in either case', () => {
    const block = Buffer.from('1F2E3D4C5B6A7988', 'hex');
    const n = blockNeedles('encrypted block', block);
    expect(findLeaks(Buffer.concat([Buffer.from([1]), block]), n)).not.toEqual([]);
    expect(findLeaks('.. 1f 2e 3d 4c 5b 6a 79 88 ..', n)).not.toEqual([]);
    expect(findLeaks('1F2E3D4C5B6A7988', n)).not.toEqual([]);
    expect(findLeaks('1F 2E 3D 4C 5B 6A 79 00', n)).toEqual([]);
  });

  it('says where each finding is and what surrounds it, non-printable bytes escaped', () => {
    const hay = Buffer.concat([Buffer.from(`${'x'.repeat(100)}"ms":1${P}7,`, 'latin1'), Buffer.from([0, 0x5c, 0xff]), Buffer.from('tail', 'latin1')]);
    const found = findLeaks(hay, [pinNeedles(P)[0]!]);
    expect(found).toEqual([`PIN ${P} as ASCII at byte 106: …${'x'.repeat(42)}"ms":1${P}7,\\x00\\x5c\\xfftail…`]);
  });
});
